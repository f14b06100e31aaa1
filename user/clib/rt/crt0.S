/* Program entry. The kernel starts a process with x0 = argc, x1 = argv (NULL-terminated,
 * the strings above it on the stack) and sp = argv, 16-byte aligned (kernel/src/task.rs
 * load_stack); the ELF loader has already copied .data and zeroed .bss. */
    .section .text._start, "ax"
    .global _start
    .type _start, %function
_start:
    mov x29, #0
    mov x30, #0
    bl __nx_start
    brk #1
    .size _start, . - _start

/* rt_sigreturn trampoline for sigaction's SA_RESTORER: the kernel's frame is at sp. */
    .section .text.__nx_sigreturn, "ax"
    .global __nx_sigreturn
    .type __nx_sigreturn, %function
__nx_sigreturn:
    mov x8, #139
    svc #0
    brk #1
    .size __nx_sigreturn, . - __nx_sigreturn

    .section .note.GNU-stack, "", %progbits
