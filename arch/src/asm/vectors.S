// Exception vectors. Every entry saves the full register frame (kernel::up::TrapFrame: x0-x30,
// sp_el0, elr_el1, spsr_el1; 272 bytes) on the kernel stack and calls a Rust handler with it,
// except a syscall from EL0, which first saves only what the Rust code may clobber (see
// el0_sync_entry).

.macro SAVE_FRAME
    sub     sp, sp, #272
    stp     x0, x1, [sp, #0]
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    mrs     x21, sp_el0
    stp     x30, x21, [sp, #240]
    mrs     x22, elr_el1
    mrs     x23, spsr_el1
    stp     x22, x23, [sp, #256]
    mov     x0, sp
.endm

// The registers a call into Rust may clobber (x0-x18, x30) into a 272-byte frame, x30 for
// now in x19's place beside x18 (one store, one load). x19-x29 stay live in their registers:
// the Rust code preserves them.
.macro SAVE_CALLER
    sub     sp, sp, #272
    stp     x0, x1, [sp, #0]
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x30, [sp, #144]
.endm

// Complete a SAVE_CALLER frame: x30 to its place, x19-x29 (still the user's: the Rust code in
// between preserved them), sp_el0, elr_el1 and spsr_el1 (nothing in between took an
// exception).
.macro SAVE_REST
    ldr     x9, [sp, #152]
    str     x9, [sp, #240]
    str     x19, [sp, #152]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    mrs     x21, sp_el0
    str     x21, [sp, #248]
    mrs     x22, elr_el1
    mrs     x23, spsr_el1
    stp     x22, x23, [sp, #256]
.endm

.macro ENTRY handler
    .balign 128
    SAVE_FRAME
    bl      \handler
    b       restore_frame
.endm

// An entry from EL0: the handler returns where to restore the registers from (the frame on
// the stack, or after a task switch the new task's own; see return_to_user).
.macro ENTRY_EL0 handler
    .balign 128
    SAVE_FRAME
    bl      \handler
    b       restore_from
.endm

.section .text
.balign 2048
.global vectors
vectors:
    // Current EL with SP_EL0 (never used)
    ENTRY   el1_unexpected
    ENTRY   el1_unexpected
    ENTRY   el1_unexpected
    ENTRY   el1_unexpected
    // Current EL with SP_EL1
    ENTRY   el1_sync
    ENTRY   el1_irq
    ENTRY   el1_unexpected
    ENTRY   el1_unexpected
    // Lower EL, AArch64. A syscall runs with only the caller-saved registers in the frame
    // (el0_svc); when it returns 0 the task goes on with nothing else to do and only those
    // come back. Anything else (a switch, a signal, kernel work, sigreturn, a fault, the FP
    // trap) completes the frame first (el0_sync_more): the Rust code behind it sees and
    // restores the whole register state.
    .balign 128
    SAVE_CALLER
    mrs     x9, esr_el1
    lsr     x9, x9, #26
    cmp     x9, #0x15
    b.ne    el0_sync_other
    mov     x0, sp
    bl      el0_svc
    cbnz    x0, el0_svc_more
    ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x30, [sp, #144]
    add     sp, sp, #272
    eret
    // The slot holds 32 instructions: fail the build rather than shift the vectors after it.
    .org    vectors + 0x480
    ENTRY_EL0 el0_irq
    ENTRY_EL0 el0_unexpected
    ENTRY_EL0 el0_unexpected
    // Lower EL, AArch32 (not supported: the task is killed)
    ENTRY_EL0 el0_unexpected
    ENTRY_EL0 el0_unexpected
    ENTRY_EL0 el0_unexpected
    ENTRY_EL0 el0_unexpected

// The rest of a synchronous exception from EL0 entered with SAVE_CALLER: not a syscall (a
// fault, the FP trap, WFI), or a syscall whose way back needs the whole frame (x0: el0_svc's
// value).
el0_sync_other:
    SAVE_REST
    mov     x0, sp
    bl      el0_sync
    b       restore_from
el0_svc_more:
    cmp     x0, #2
    b.ls    el0_svc_stack
    // x0: the current task's slot. The part on the stack, then the rest, from the live
    // registers as SAVE_REST takes them (x30 beside x18 on the stack, at 240 in the slot).
    ldp     x2, x3, [sp, #0]
    stp     x2, x3, [x0, #0]
    ldp     x2, x3, [sp, #16]
    stp     x2, x3, [x0, #16]
    ldp     x2, x3, [sp, #32]
    stp     x2, x3, [x0, #32]
    ldp     x2, x3, [sp, #48]
    stp     x2, x3, [x0, #48]
    ldp     x2, x3, [sp, #64]
    stp     x2, x3, [x0, #64]
    ldp     x2, x3, [sp, #80]
    stp     x2, x3, [x0, #80]
    ldp     x2, x3, [sp, #96]
    stp     x2, x3, [x0, #96]
    ldp     x2, x3, [sp, #112]
    stp     x2, x3, [x0, #112]
    ldp     x2, x3, [sp, #128]
    stp     x2, x3, [x0, #128]
    ldp     x2, x3, [sp, #144]
    stp     x2, x19, [x0, #144]
    mrs     x4, sp_el0
    stp     x3, x4, [x0, #240]
    stp     x20, x21, [x0, #160]
    stp     x22, x23, [x0, #176]
    stp     x24, x25, [x0, #192]
    stp     x26, x27, [x0, #208]
    stp     x28, x29, [x0, #224]
    mrs     x2, elr_el1
    mrs     x3, spsr_el1
    stp     x2, x3, [x0, #256]
    mov     x0, sp
    bl      el0_svc_switch
    b       restore_from
el0_svc_stack:
    mov     x1, x0
    SAVE_REST
    mov     x0, sp
    bl      el0_svc_rest
    b       restore_from

// Restore the frame on the stack and return from the exception.
.global restore_frame
restore_frame:
    mov     x0, sp
// Restore the frame at x0 (the one on the stack or a task's own), pop the one on the stack
// and return from the exception.
restore_from:
    ldp     x22, x23, [x0, #256]
    msr     elr_el1, x22
    msr     spsr_el1, x23
    ldp     x30, x21, [x0, #240]
    msr     sp_el0, x21
    ldp     x2, x3, [x0, #16]
    ldp     x4, x5, [x0, #32]
    ldp     x6, x7, [x0, #48]
    ldp     x8, x9, [x0, #64]
    ldp     x10, x11, [x0, #80]
    ldp     x12, x13, [x0, #96]
    ldp     x14, x15, [x0, #112]
    ldp     x16, x17, [x0, #128]
    ldp     x18, x19, [x0, #144]
    ldp     x20, x21, [x0, #160]
    ldp     x22, x23, [x0, #176]
    ldp     x24, x25, [x0, #192]
    ldp     x26, x27, [x0, #208]
    ldp     x28, x29, [x0, #224]
    ldp     x0, x1, [x0, #0]
    add     sp, sp, #272
    eret

// enter_user(frame): reset the kernel stack to its top, copy the frame there and return to EL0.
.global enter_user
enter_user:
    ldr     x1, =__boot_stack_top
    sub     sp, x1, #272
    mov     x2, sp
    mov     x3, #272
1:  ldp     x4, x5, [x0], #16
    stp     x4, x5, [x2], #16
    subs    x3, x3, #16
    b.ne    1b
    b       restore_frame
