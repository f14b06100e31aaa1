//! Signals (Linux aarch64 numbers and values): numbers, `rt_sigaction` flags and layout, the
//! mask operations, and the frame the kernel pushes on the user stack to run a handler.

pub const SIGHUP: usize = 1;
pub const SIGINT: usize = 2;
pub const SIGQUIT: usize = 3;
pub const SIGILL: usize = 4;
pub const SIGTRAP: usize = 5;
pub const SIGABRT: usize = 6;
pub const SIGBUS: usize = 7;
pub const SIGFPE: usize = 8;
pub const SIGKILL: usize = 9;
pub const SIGUSR1: usize = 10;
pub const SIGSEGV: usize = 11;
pub const SIGUSR2: usize = 12;
pub const SIGPIPE: usize = 13;
pub const SIGALRM: usize = 14;
pub const SIGTERM: usize = 15;
pub const SIGCHLD: usize = 17;
pub const SIGCONT: usize = 18;
pub const SIGSTOP: usize = 19;
pub const SIGTSTP: usize = 20;
pub const SIGTTIN: usize = 21;
pub const SIGTTOU: usize = 22;
pub const SIGURG: usize = 23;
pub const SIGWINCH: usize = 28;
pub const SIGSYS: usize = 31;
/// Highest signal number (real-time signals included).
pub const NSIG: usize = 64;

/// Dispositions in `sa_handler`.
pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;

/// `sa_flags`.
pub const SA_SIGINFO: u64 = 0x0000_0004;
/// `sa_restorer` holds the return trampoline (it must: there is no vDSO to supply one).
pub const SA_RESTORER: u64 = 0x0400_0000;
/// Restart an interrupted blocking call instead of failing it with EINTR.
pub const SA_RESTART: u64 = 0x1000_0000;
pub const SA_NODEFER: u64 = 0x4000_0000;
pub const SA_RESETHAND: u64 = 0x8000_0000;
/// The flags this kernel implements (others are EINVAL).
pub const SA_SUPPORTED: u64 = SA_SIGINFO | SA_RESTORER | SA_RESTART | SA_NODEFER | SA_RESETHAND;

/// `rt_sigprocmask` operations.
pub const SIG_BLOCK: usize = 0;
pub const SIG_UNBLOCK: usize = 1;
pub const SIG_SETMASK: usize = 2;

/// A signal set: bit `n - 1` is signal `n`.
pub type SigSet = u64;

/// The bit of signal `sig` in a [`SigSet`].
pub const fn sigbit(sig: usize) -> SigSet {
    1 << (sig - 1)
}

/// Signals that can be neither caught, ignored nor blocked.
pub const UNCATCHABLE: SigSet = sigbit(SIGKILL) | sigbit(SIGSTOP);

/// `struct sigaction` as `rt_sigaction` passes it (Linux's kernel layout on arm64).
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: SigSet,
}

/// `siginfo_t` (128 bytes): the fields this kernel fills.
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct SigInfo {
    pub signo: i32,
    pub errno: i32,
    pub code: i32,
    pub pad0: i32,
    /// Sending process (kill), or 0 from the kernel.
    pub pid: i32,
    pub uid: u32,
    pub rest: [u64; 13],
}

/// `si_code` of a signal sent by kill(2).
pub const SI_USER: i32 = 0;
/// `si_code` of a signal the kernel sent (Ctrl-C).
pub const SI_KERNEL: i32 = 0x80;

/// The user registers a handler interrupts, restored by `rt_sigreturn`. As Linux's
/// `mcontext_t`, the general registers are followed by records: an FP/SIMD one when the
/// task has used FP (magic 0: it has not), then a zero record that ends the list.
#[repr(C, align(16))]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct MContext {
    pub fault_address: u64,
    pub regs: [u64; 31],
    pub sp: u64,
    pub pc: u64,
    pub pstate: u64,
    /// Padding to the records' 16-byte alignment, written as zero (no padding is left
    /// implicit: the frame is copied to user memory byte for byte).
    pub pad: u64,
    pub fpsimd: FpsimdContext,
    /// The terminating record (magic and size 0).
    pub end: [u32; 4],
}

/// Linux's `struct fpsimd_context`: FPSR, FPCR and v0-v31 as the handler interrupted them.
/// `rt_sigreturn` loads what the handler leaves here.
#[repr(C, align(16))]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct FpsimdContext {
    /// FPSIMD_MAGIC, or 0 for a task that has not used FP.
    pub magic: u32,
    /// FPSIMD_CONTEXT_SIZE, or 0.
    pub size: u32,
    pub fpsr: u32,
    pub fpcr: u32,
    pub vregs: [u128; 32],
}

/// `FPSIMD_MAGIC` (Linux's value).
pub const FPSIMD_MAGIC: u32 = 0x4650_8001;
/// Bytes of an FP/SIMD record.
pub const FPSIMD_CONTEXT_SIZE: u32 = core::mem::size_of::<FpsimdContext>() as u32;
/// FPCR bits a program may set (AHP, DN, FZ, RMode, Stride, FZ16, Len, the trap enables,
/// FIZ/AH/NEP); the rest are reserved.
pub const FPCR_USER: u32 = 0x07ff_9f07;
/// FPSR bits: N Z C V QC and the cumulative exception flags.
pub const FPSR_USER: u32 = 0xf800_009f;

const _: () = assert!(core::mem::size_of::<FpsimdContext>() == 528);
const _: () = assert!(core::mem::offset_of!(MContext, fpsimd) == 288);

/// `ucontext_t` (Linux's layout: the machine context at offset 176).
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct UContext {
    pub flags: u64,
    pub link: u64,
    /// `stack_t` (ss_sp, ss_flags, ss_size): no alternate stacks, so all zero.
    pub stack: [u64; 3],
    /// The mask to restore when the handler returns.
    pub sigmask: SigSet,
    pub unused: [u64; 16],
    pub mcontext: MContext,
}

/// What the kernel pushes below the interrupted stack pointer before running a handler:
/// x0 = signal, x1 = &info, x2 = &uc, x30 = `sa_restorer`, sp = this frame (16-aligned).
/// `rt_sigreturn` (called by the restorer with sp unchanged) reads it back.
#[repr(C, align(16))]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct SigFrame {
    pub info: SigInfo,
    pub uc: UContext,
}

const _: () = assert!(core::mem::size_of::<SigInfo>() == 128);
const _: () = assert!(core::mem::size_of::<SigAction>() == 32);
const _: () = assert!(core::mem::size_of::<SigFrame>().is_multiple_of(16));
const _: () = assert!(core::mem::offset_of!(UContext, mcontext) == 176);
// No implicit padding anywhere in the frame: sizes are the sums of the fields.
const _: () = assert!(core::mem::size_of::<MContext>() == 8 + 31 * 8 + 4 * 8 + 528 + 16);
const _: () = assert!(core::mem::size_of::<UContext>() == 176 + 832);
const _: () = assert!(core::mem::size_of::<SigFrame>() == 128 + 1008);
