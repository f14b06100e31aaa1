//! Boot the image in each supported configuration and run the on-target test suite.

//! `BOARD=rpi3b`: the default boot (the raw image at EL2, ATAGS), the device-tree path, the
//! faults and init's death on the Pi; GICv3, EL2 entry, the raw image and `--mem` are
//! QEMU virt's.

use systest::{board, run_ostest, skip_unless_virt, Board, Qemu};

#[test]
fn ostest_gicv2_el1() {
    let out = run_ostest(&[]);
    if board() == Board::Rpi3b {
        assert!(out.contains("entered at EL2, running at EL1"), "{out}");
        assert!(out.contains("cores 1-3 parked"), "{out}");
        assert!(out.contains("MiB at 0x0 (ATAGS)"), "{out}");
        assert!(out.contains("BCM2836 intc"), "{out}");
        return;
    }
    assert!(out.contains("entered at EL1"), "{out}");
    assert!(out.contains("GICv2"), "{out}");
}

#[test]
fn ostest_gicv3_entered_at_el2() {
    if skip_unless_virt("GICv3 with EL2 entry") {
        return;
    }
    let out = run_ostest(&["--gic", "3", "--el2"]);
    assert!(out.contains("entered at EL2, running at EL1"), "{out}");
    assert!(out.contains("GICv3"), "{out}");
}

#[test]
fn ostest_raw_image() {
    if skip_unless_virt("choosing the raw image over the ELF") {
        return;
    }
    run_ostest(&["--raw", "--gic", "3"]);
}

#[test]
fn faults_are_reported_on_one_line_and_the_system_goes_on() {
    let out = run_ostest(&["--append", "ostest=faults"]);
    // The probe of 0xffffff8040200000 is the kernel's image on QEMU virt (mapped, EL1 only);
    // on the Pi nothing is mapped there.
    let kernel_write = match board() {
        Board::QemuVirt => {
            "(ttask): killed: data abort (permission fault, write) at 0xffffff8040200000"
        }
        Board::Rpi3b => {
            "(ttask): killed: data abort (translation fault, write) at 0xffffff8040200000"
        }
    };
    for pat in [
        "(ttask): killed: data abort (translation fault, read) at 0x0 ",
        kernel_write,
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
    if board() == Board::Rpi3b {
        pi_boot_information_from_a_device_tree();
        return;
    }
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

/// The Pi reads ATAGS without `-dtb`; with one, QEMU replaces its `/memory` nodes (leaving
/// NOPs) and writes `-append` into `/chosen/bootargs`, which the board must find. QEMU virt's
/// own tree stands in for a Pi's.
fn pi_boot_information_from_a_device_tree() {
    let dtb = std::env::temp_dir().join(format!("systest-virt-{}.dtb", std::process::id()));
    let st = std::process::Command::new("qemu-system-aarch64")
        .args(["-M", &format!("virt,dumpdtb={}", dtb.display())])
        .args(["-display", "none"])
        .output()
        .expect("run qemu-system-aarch64");
    assert!(dtb.exists(), "no tree dumped: {st:?}");
    let q = Qemu::boot(
        &[
            "--append",
            "poweroff kheap=3M",
            "--",
            "-dtb",
            dtb.to_str().unwrap(),
        ],
        60,
    );
    let (code, out) = q.finish(70);
    let _ = std::fs::remove_file(&dtb);
    // The command line came through the tree: semihosting (the exit status), kheap, poweroff.
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("memory: 960 MiB at 0x0 (device tree)"),
        "{out}"
    );
    assert!(out.contains("heap 3072 KiB"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("init: ")), "{out}");
}
