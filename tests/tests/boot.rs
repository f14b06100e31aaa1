//! Boot the image in each supported configuration and run the on-target test suite.

use systest::{run_ostest, Qemu};

#[test]
fn ostest_gicv2_el1() {
    let out = run_ostest(&[]);
    assert!(out.contains("entered at EL1"), "{out}");
    assert!(out.contains("GICv2"), "{out}");
}

#[test]
fn ostest_gicv3_entered_at_el2() {
    let out = run_ostest(&["--gic", "3", "--el2"]);
    assert!(out.contains("entered at EL2, running at EL1"), "{out}");
    assert!(out.contains("GICv3"), "{out}");
}

#[test]
fn ostest_raw_image() {
    run_ostest(&["--raw", "--gic", "3"]);
}

#[test]
fn faults_are_reported_on_one_line_and_the_system_goes_on() {
    let out = run_ostest(&["--append", "ostest=faults"]);
    for pat in [
        "(ttask): killed: data abort (translation fault, read) at 0x0 ",
        "(ttask): killed: data abort (permission fault, write) at 0xffffff8040200000",
        "(ttask): killed: instruction abort (translation fault) at 0x12345000",
        "(ttask): killed: undefined instruction at ",
        "(ttask): killed: data abort (permission fault, write) at 0x400000 ",
    ] {
        assert!(out.contains(pat), "missing {pat:?} in\n{out}");
    }
}

fn free_pages(mem: &str) -> u64 {
    let q = Qemu::boot(&["--mem", mem, "--append", "poweroff"], 60);
    let (code, out) = q.finish(70);
    assert_eq!(code, 0, "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("init: "))
        .unwrap_or_else(|| panic!("{out}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn ram_size_comes_from_the_device_tree() {
    let small = free_pages("128M");
    let big = free_pages("256M");
    assert!(
        big > small + 30_000,
        "128M: {small} free pages, 256M: {big}"
    );
}

#[test]
fn shell_runs_programs_with_arguments() {
    let mut q = Qemu::boot(&[], 60);
    q.expect("nsh> ", 30);
    q.type_str("hello one two\r");
    let at = q.expect("args [\"hello\", \"one\", \"two\"]", 10);
    q.expect_from(at, "nsh> ", 10);
    let at = q.out.len();
    q.type_str("nosuchthing\r");
    q.expect_from(at, "nsh: nosuchthing: command not found", 10);
    let at = q.out.len();
    q.type_str("ttask exit 3\r");
    let at = q.expect_from(at, "nsh> ", 10);
    q.type_str("echo $?\r");
    q.expect_from(at, "\n3\r\n", 10);
}

#[test]
fn init_dying_powers_off_with_a_clear_message() {
    let q = Qemu::boot(&["--append", "init-fault"], 60);
    let (code, out) = q.finish(70);
    assert!(
        out.contains("(init): killed: data abort (translation fault, read) at 0x0")
            && out.contains("init (pid 1) killed by signal 11: powering off"),
        "{out}"
    );
    assert_eq!(code, 128 + 11, "{out}");
}
