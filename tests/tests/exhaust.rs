//! Resource exhaustion at the shell: `exhaust` runs each kernel limit (tasks, descriptors,
//! pipes, segments, attachments, pages, kernel heap) out, checks the errno and that the
//! system still answers, releases everything and checks it all came back. One boot per test.

use systest::Qemu;

trait ShellExt {
    /// Type a command line and return what it printed before the next prompt.
    fn cmd(&mut self, line: &str, secs: u64) -> String;
}

impl ShellExt for Qemu {
    fn cmd(&mut self, line: &str, secs: u64) -> String {
        let at = self.out.len();
        self.type_str(line);
        self.type_str("\r");
        // The echo of the line, then everything up to the next prompt.
        let start = self.expect_from(at, "\n", 20);
        let end = self.expect_from(start, "nsh> ", secs);
        self.out[start..end - "nsh> ".len()].to_string()
    }
}

/// A booted system at its first prompt.
fn shell(args: &[&str]) -> Qemu {
    let mut q = Qemu::boot(args, 150);
    q.expect("nsh> ", 60);
    q
}

/// The line `exhaust: NAME: ...` of a run.
fn case<'a>(out: &'a str, name: &str) -> &'a str {
    let p = format!("exhaust: {name}: ");
    out.lines()
        .map(str::trim_end)
        .find(|l| l.starts_with(&p))
        .unwrap_or_else(|| panic!("no {name} line:\n{out}"))
}

/// Nothing went wrong in the kernel or in a program (no helper is ever killed: they all end
/// by themselves when their release pipe reads end of file).
fn clean(out: &str) {
    for bad in ["panic", "killed", "cannot load", "FAIL"] {
        assert!(!out.contains(bad), "{bad:?} in the output:\n{out}");
    }
}

/// `free`'s page and heap lines (the figures must be the same before and after a run).
fn free(q: &mut Qemu) -> String {
    q.cmd("free", 20)
        .lines()
        .filter(|l| l.starts_with("Pages:") || l.starts_with("Heap:"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_limit_gives_its_errno_and_everything_comes_back() {
    let mut q = shell(&[]);
    let before = free(&mut q);
    // As an unprivileged user: no limit may depend on being root.
    let out = q.cmd(
        "exhaust -u 1000 tasks fds pipes segments attachments pages",
        90,
    );
    // 64 task slots, three taken by init, nsh and exhaust itself.
    assert_eq!(
        case(&out, "tasks"),
        "exhaust: tasks: EAGAIN after 61, back: ok",
        "{out}"
    );
    // 16 descriptors, 0-2 the console.
    assert_eq!(
        case(&out, "fds"),
        "exhaust: fds: EMFILE after 13, back: ok",
        "{out}"
    );
    assert_eq!(
        case(&out, "pipes"),
        "exhaust: pipes: ENFILE after 32, back: ok",
        "{out}"
    );
    assert_eq!(
        case(&out, "segments"),
        "exhaust: segments: ENOSPC after 128, back: ok",
        "{out}"
    );
    assert_eq!(
        case(&out, "attachments"),
        "exhaust: attachments: EMFILE after 64, back: ok",
        "{out}"
    );
    // QEMU virt's 256 MiB of RAM: every page goes to segments (no heap or SHMALL note), then
    // to brk. The Pi's 960 MiB: the segments stop at SHMALL (256 MiB), brk takes the rest.
    let pages = case(&out, "pages");
    let (first, brk) = match systest::board() {
        systest::Board::QemuVirt => ("exhaust: pages: ENOMEM after ", "brk stops at +2"),
        systest::Board::Rpi3b => (
            "exhaust: pages: ENOMEM (SHMALL reached first) after 4 segments (65536 pages)",
            "brk stops at +9",
        ),
    };
    assert!(
        pages.starts_with(first) && pages.contains(" MiB, back: ok") && pages.contains(brk),
        "{out}"
    );
    assert!(
        out.contains("exhaust: 6 passed, 0 failed, 0 skipped"),
        "{out}"
    );
    assert_eq!(q.cmd("echo $?", 10).trim(), "0");
    // With the default 2 MiB heap the heap case cannot be run: skipped, not passed.
    let out2 = q.cmd("exhaust heap", 30);
    assert!(
        case(&out2, "heap").starts_with("exhaust: heap: skip (") && out2.contains("kheap=256K"),
        "{out2}"
    );
    assert!(
        out2.contains("exhaust: 0 passed, 0 failed, 1 skipped"),
        "{out2}"
    );
    // Nothing left behind: only init and the shell, the same free pages and heap.
    let ps = q.cmd("ps", 10);
    assert_eq!(ps.trim().lines().count(), 3, "{ps}");
    assert_eq!(free(&mut q), before);
    assert_eq!(q.cmd("echo alive", 10).trim(), "alive");
    clean(&q.out);
}

#[test]
fn kernel_heap_exhaustion_is_enomem_and_the_heap_comes_back() {
    let mut q = shell(&["--append", "kheap=256K"]);
    q.expect("kheap: raised to", 5);
    let before = free(&mut q);
    let out = q.cmd("exhaust heap", 60);
    let heap = case(&out, "heap");
    assert!(
        heap.starts_with("exhaust: heap: ENOMEM after ") && heap.ends_with(", back: ok"),
        "{out}"
    );
    assert!(
        out.contains("exhaust: 1 passed, 0 failed, 0 skipped"),
        "{out}"
    );
    // The other limits on the small heap, as root: pipe buffers and segment page lists come
    // from the kernel heap, so pipes (ENFILE) and pages (ENOMEM) may stop before their own
    // limit.
    let out = q.cmd("exhaust", 90);
    assert_eq!(
        case(&out, "tasks"),
        "exhaust: tasks: EAGAIN after 61, back: ok",
        "{out}"
    );
    let pipes = case(&out, "pipes");
    assert!(
        pipes == "exhaust: pipes: ENFILE after 32, back: ok"
            || pipes.starts_with("exhaust: pipes: ENFILE (kernel heap full first) after "),
        "{out}"
    );
    assert_eq!(
        case(&out, "segments"),
        "exhaust: segments: ENOSPC after 128, back: ok",
        "{out}"
    );
    assert!(
        case(&out, "heap").starts_with("exhaust: heap: ENOMEM after "),
        "{out}"
    );
    assert!(
        out.contains("exhaust: 7 passed, 0 failed, 0 skipped"),
        "{out}"
    );
    assert_eq!(q.cmd("echo $?", 10).trim(), "0");
    // The shell still answers, and the heap and pages are where they were.
    assert_eq!(q.cmd("echo alive", 10).trim(), "alive");
    assert_eq!(free(&mut q), before);
    clean(&q.out);
}
