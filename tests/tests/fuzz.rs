//! The syscall fuzzer run at the shell: hostile calls from unprivileged workers must not
//! panic or wedge the kernel, and every page and heap byte must come back.

use systest::Qemu;

/// Boot, type `fuzz ARGS` at the shell, and return what it printed up to its verdict line.
fn fuzz(args: &str, secs: u64) -> String {
    let mut q = Qemu::boot(&[], (secs + 60) as u32);
    q.expect("nsh> ", 60);
    let at = q.out.len();
    q.type_str(&format!("fuzz {args}\r"));
    // The summary line comes first, then the memory line, then the verdict.
    let sum = q.expect_from(at, "fuzz: pages free or ours", secs);
    let end = q.expect_from(sum, "nsh> ", 30);
    let out = q.out[at..end].to_string();
    // The shell is still there and answers.
    q.type_str("echo still here\r");
    q.expect_from(end, "still here", 30);
    assert!(!q.out.contains("panic"), "{}", q.out);
    out
}

fn calls() -> u64 {
    std::env::var("FUZZ_CALLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000)
}

/// The summary and verdict lines (a worker's console writes may come before them).
fn verdict(out: &str) -> String {
    out.lines()
        .filter(|l| l.starts_with("fuzz: "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Run `fuzz N SEED WORKERS` and check its verdict.
fn run(n: u64, seed: u64, workers: u32) {
    let out = fuzz(&format!("{n} {seed} {workers}"), 900);
    let v = verdict(&out);
    eprintln!("{v}");
    assert!(v.contains(&format!("fuzz: {n} calls,")), "{v}");
    assert!(v.contains(" 0 oracle failures"), "{v}");
    assert!(v.contains("\nfuzz: OK"), "{v}");
    assert!(!v.contains("FAIL"), "{v}");
}

#[test]
fn fuzz_200000_calls_no_panic_and_memory_back() {
    run(calls(), 1, 2);
}

/// Another seed, and more workers racing each other's segments and children.
#[test]
fn fuzz_100000_calls_six_workers_no_panic_and_memory_back() {
    run(calls() / 2, 2026, 6);
}
