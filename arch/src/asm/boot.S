// Boot entry. Runs at the physical load address with the MMU off, so every reference to the
// image is PC-relative (adr/adrp) until the jump to the upper half.

.section .text.head, "ax"
.global _start
_start:
    // Linux arm64 Image header: lets QEMU and boot loaders load the raw binary at
    // RAM base + text_offset and pass the DTB in x0.
    b       primary_entry
    .long   0
    .quad   __text_offset               // text_offset: the board's (its linker script)
    .quad   __image_size                // image size, bss included
    .quad   0x2                         // flags: little-endian, 4 KiB pages
    .quad   0, 0, 0
    .ascii  "ARM\x64"
    .long   0

.section .text.boot, "ax"
primary_entry:
    mrs     x21, cntvct_el0             // boot time is measured from here (board_main's 3rd argument)
    msr     daifset, #0xf
    mov     x19, x0                     // boot information (DTB, ATAGS, or 0: the board reads it)
    // The image runs where it is linked once the MMU is on: a loader that put it elsewhere
    // (one that ignored the header's text_offset) gets "!L" on the early UART.
    adr     x1, _start
    ldr     x2, =_start_phys
    cmp     x1, x2
    mov     w0, #'L'
    b.ne    early_stop
    mrs     x1, CurrentEL
    lsr     x1, x1, #2
    mov     x20, x1                     // entry EL, reported later
    // Entered at EL3 (QEMU starts an ELF at the reset EL on boards with EL3, on every core of
    // some): not supported, "!3". Boot loaders enter at EL2 or EL1.
    cmp     x1, #3
    mov     w0, #'3'
    b.eq    early_stop
    adr     x1, early_vectors
    msr     vbar_el1, x1
    cmp     x20, #2
    b.ne    at_el1

    // EL2 -> EL1: EL1 is AArch64, timers and GICv3 system registers open to EL1.
    adr     x1, early_vectors
    msr     vbar_el2, x1
    mov     x1, #(1 << 31)
    msr     hcr_el2, x1
    mov     x1, #3
    msr     cnthctl_el2, x1
    mrs     x1, cntvoff_el2             // the entry count read with the offset about to be
    add     x21, x21, x1                // dropped: make it the count EL1 will see
    msr     cntvoff_el2, xzr
    mrs     x1, id_aa64pfr0_el1
    ubfx    x1, x1, #24, #4             // GIC system register interface present?
    cbz     x1, 1f
    mrs     x1, S3_4_C12_C9_5           // ICC_SRE_EL2
    mov     x2, #0x9                    // SRE | Enable (lower ELs may use SRE)
    orr     x1, x1, x2
    msr     S3_4_C12_C9_5, x1
    isb
1:  msr     cptr_el2, xzr
    mov     x1, #0x33ff
    msr     cptr_el2, x1                // no traps of FP/SIMD to EL2 (EL1 still traps them)
    msr     vttbr_el2, xzr
    ldr     x1, =0x30d04800
    msr     sctlr_el1, x1
    mov     x1, #0x3c5                  // EL1h, all exceptions masked
    msr     spsr_el2, x1
    adr     x1, at_el1
    msr     elr_el2, x1
    eret

at_el1:
    // SCTLR_EL1 RES1 bits, plus DZE (bit 14): EL0 may use DC ZVA too (it writes only memory
    // the task could write with stores).
    ldr     x1, =0x30d04800
    msr     sctlr_el1, x1
    // CPACR_EL1.FPEN = 0b01: FP/SIMD open to EL1 (the lazy switch saves and loads them),
    // trapped at EL0 until a task owns them.
    mov     x1, #(1 << 20)
    msr     cpacr_el1, x1
    isb
    // Thread pointers reset to UNKNOWN values: no process may see what was there before.
    msr     tpidr_el0, xzr
    msr     tpidrro_el0, xzr
    adr     x1, early_vectors
    msr     vbar_el1, x1

    // Zero BSS (physical addresses via adrp), 64 bytes a step: the linker script aligns
    // its end to 64. With the MMU off memory is Device, where DC ZVA faults. The boot stack
    // is not in it (.noinit): a stack needs no zeroing.
    adrp    x1, __bss_start
    add     x1, x1, :lo12:__bss_start
    adrp    x2, __bss_end
    add     x2, x2, :lo12:__bss_end
    b       3f
2:  stp     xzr, xzr, [x1]
    stp     xzr, xzr, [x1, #16]
    stp     xzr, xzr, [x1, #32]
    stp     xzr, xzr, [x1, #48]
    add     x1, x1, #64
3:  cmp     x1, x2
    b.lo    2b
    // Boot translation table, physical 0-4 GiB as the board's BOARD_BOOT_MAP says (see
    // arch/src/bootmap.rs): four L1 entries, each a 1 GiB block, nothing, or L2_TABLE (the
    // board's L2 table, whose link address becomes its physical address here). The same L1
    // table serves TTBR0 (identity, for the jump) and TTBR1 (the upper half).
    adrp    x1, boot_l1
    adrp    x4, BOARD_BOOT_MAP
    add     x4, x4, :lo12:BOARD_BOOT_MAP
    ldr     x5, [x4, #40]               // l2: its link (upper-half) address, or 0
    cbz     x5, 1f
    ldr     x6, =_start
    adr     x7, _start
    sub     x6, x6, x7                  // link address - physical address
    sub     x5, x5, x6
    orr     x5, x5, #3                  // table descriptor
1:  mov     x3, #0
2:  ldr     x2, [x4, x3, lsl #3]
    cmp     x2, #3                      // L2_TABLE
    csel    x2, x5, x2, eq
    str     x2, [x1, x3, lsl #3]
    add     x3, x3, #1
    cmp     x3, #4
    b.lo    2b

    ldr     x2, =0x04ff00               // MAIR: 0 device nGnRnE, 1 normal WB, 2 device nGnRE
    msr     mair_el1, x2
    ldr     x2, =0xB5193519             // TCR: T0SZ=T1SZ=25, 4K granules, WB WA inner-shareable walks
    mrs     x3, id_aa64mmfr0_el1
    and     x3, x3, #7                  // PARange -> IPS
    orr     x2, x2, x3, lsl #32
    msr     tcr_el1, x2
    msr     ttbr0_el1, x1
    msr     ttbr1_el1, x1
    dsb     ish
    tlbi    vmalle1
    dsb     ish
    isb
    mrs     x2, sctlr_el1
    ldr     x3, =0x1005                 // M, C, I
    orr     x2, x2, x3
    msr     sctlr_el1, x2
    isb

    ldr     x1, =upper_half
    br      x1

.section .text
upper_half:
    ldr     x1, =__boot_stack_top
    mov     sp, x1
    ldr     x1, =vectors
    msr     vbar_el1, x1
    isb
    mov     x0, x19
    mov     x1, x20
    mov     x2, x21
    bl      board_main
4:  wfi
    b       4b

// Before the real vectors exist (and at EL2 before the drop), any exception lands here:
// print a marker straight to the board's early UART (BOARD_BOOT_MAP.early_uart, a physical
// address; 0 for none) and stop: "!E" for an exception, "!L" and "!3" from primary_entry.
.section .text.boot, "ax"
.balign 2048
early_vectors:
    .rept 16
    .balign 128
    b       early_fault
    .endr
early_fault:
    mov     w0, #'E'
early_stop:                             // w0: the marker's letter
    adrp    x1, BOARD_BOOT_MAP
    add     x1, x1, :lo12:BOARD_BOOT_MAP
    ldr     x1, [x1, #32]
    cbz     x1, 5f
    mov     w2, #'!'
    strb    w2, [x1]
    strb    w0, [x1]
    mov     w2, #'\n'
    strb    w2, [x1]
5:  wfe
    b       5b
.ltorg

.section .bss
.balign 4096
boot_l1:
    .space 4096

// Outside .bss (the linker script puts .noinit after __bss_end): never zeroed.
.section .noinit, "aw", %nobits
.balign 16
__boot_stack_bottom:
    .space 0x10000
.global __boot_stack_top
__boot_stack_top:
