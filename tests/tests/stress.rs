//! The shared-memory stress program typed at the shell: 32 processes in pairs hand segments to
//! each other with futex wake-ups under preemption; nothing may be corrupted or leaked.

use systest::Qemu;

#[test]
fn stress_32_processes_hand_off_segments_without_corruption_or_leaks() {
    let mut q = Qemu::boot(&[], 300);
    q.expect("nsh> ", 60);
    let at = q.out.len();
    q.type_str("stress\r");
    let end = q.expect_from(at, "\nnsh> ", 280);
    let out = q.out[at..end].to_string();
    let summary = out
        .lines()
        .find(|l| l.starts_with("stress: "))
        .unwrap_or_else(|| panic!("no summary line:\n{out}"));
    println!("{summary}");
    assert!(
        summary.starts_with("stress: OK: 200 rounds x 32 processes, ")
            && summary.ends_with(", pages and heap back"),
        "{out}"
    );
    for bad in ["FAIL", "panic", "killed"] {
        assert!(!out.contains(bad), "{bad:?} in the output:\n{out}");
    }
    // The shell saw status 0.
    let at = q.out.len();
    q.type_str("echo $?\r");
    let end = q.expect_from(at, "\nnsh> ", 20);
    assert_eq!(q.out[at..end].lines().nth(1).map(str::trim), Some("0"));
}
