//! The benchmark program runs to the end under icount, and its two-process transfers (shared
//! ring, pipe, futex ping-pong, chunk channels) deliver every byte in order.

use systest::Qemu;

#[test]
fn benchmarks_run_and_transfers_are_correct() {
    let q = Qemu::boot(&["--icount", "--append", "bench"], 400);
    let (_, out) = q.finish(420);
    assert!(
        out.contains("BEGIN BENCHMARKS") && out.contains("END BENCHMARKS"),
        "{out}"
    );
    assert!(!out.contains("pong failed"), "{out}");
    // The chunk round trip checks every answer; the chunk transfer's consumer checks the
    // stamps of all 4 MiB and, in an untimed run, every byte and the size of chunks of
    // every length; the shared heap's allocations come from where first fit must put them.
    for failure in [
        "chunk round trip failed",
        "chunk transfer failed",
        "shmheap failed",
    ] {
        assert!(!out.contains(failure), "{out}");
    }
    let row = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} row:\n{out}"))
            .to_string()
    };
    for name in [
        "| null syscall",
        "| shmat+shmdt, 1 page",
        "| shmat+shmdt, 512 pages",
        "| shmat+shmdt, 8192 pages",
        "| shmget(IPC_PRIVATE)+IPC_RMID, 512 pages",
        "| zero 2 MiB with dc zva",
        "| mmap+munmap (MAP_SHARED) of a POSIX shm object, 1 page",
        "| mmap+munmap (MAP_SHARED) of a POSIX shm object, 512 pages",
        "| shmget(IPC_PRIVATE)+shmat+shmdt+IPC_RMID, 1 page",
        "| shm_open(O_CREAT)+ftruncate+mmap+munmap+close+shm_unlink, 1 page",
        "| /dev/shmem/new open+mmap+munmap+close, 1 page",
        "| context switch",
        "| chunk channel round trip",
        "| chunk channel (16 x 4 KiB chunks",
        "| shmheap_alloc+shmheap_free of 64 bytes, 10 live objects",
        "| shmheap_alloc+shmheap_free of 64 bytes, 1000 live objects",
        "| boot to the first user program",
        "| kernel RAM in use at idle",
        "| cyclictest (priority 255, 1 ms period) idle",
        "| cyclictest under load",
    ] {
        row(name);
    }
    // Wake-up latency under load stays within the bound, measured both ways.
    for name in [
        "| cyclictest under load",
        "| longest stretch with interrupts masked",
    ] {
        assert!(row(name).ends_with("met |"), "{}", row(name));
    }
    // The ring and pipe verdicts include the consumers' checks of every chunk.
    assert!(
        row("| shared ring").ends_with("met |"),
        "{}",
        row("| shared ring")
    );
    assert!(
        row("| pipe (kernel copy)").ends_with("met |"),
        "{}",
        row("| pipe")
    );
    // Under icount a 2 MiB segment attaches with a block descriptor: far below 512 pages' worth.
    assert!(row("| shmat+shmdt, 512 pages").contains("met |"));
}
