#!/usr/bin/env bash
# Build everything and boot it on QEMU virt (aarch64), or on QEMU's Raspberry Pi 3B.
#
#   ./qemu-run.sh [options] [-- extra qemu args]
#     --board NAME   qemu-virt (default) or rpi3b (-M raspi3b: 1 GiB, 4 Cortex-A53, the raw
#                    kernel8.img; --mem, --gic, --el2, --raw and --cpu do not apply)
#     --test         run the test suite (ostest) and exit with its verdict
#     --gdb          wait for gdb-multiarch on localhost:1234 before the first instruction
#     --trace        build with defmt kernel tracing and decode it with defmt-print
#     --mem SIZE     RAM size (default 256M)
#     --gic 2|3      interrupt controller version (default 2)
#     --el2          enter at EL2 (virtualization=on); the kernel drops to EL1
#     --raw          boot the raw Image binary instead of the ELF
#     --cpu NAME     CPU model (default cortex-a76)
#     --icount       one virtual nanosecond per instruction (-icount shift=0,sleep=off)
#     --bench        run the benchmarks under -icount shift=0 (instruction counts) and write
#                    the table to BENCHMARKS.md; exit status 1 if a target is missed (the
#                    last line names each), 0 if all are met
#     --bench-wall   the same in wall-clock time (no icount), written to out/BENCHMARKS-wall.md
#     --append ARGS  extra kernel command line words (passed to init)
#     --timeout SEC  kill QEMU after SEC seconds (exit status 124)
#     --no-build     use the images already built
#     --build-only   build the images (out/nx-rtos.elf, out/nx-rtos.bin) and stop
set -euo pipefail
cd "$(dirname "$0")"

TARGET=aarch64-unknown-none-softfloat
BOARD=qemu-virt MEM=256M GIC=2 CPU=cortex-a76 EL2=0 RAW=0 GDB=0 TEST=0 TRACE=0 ICOUNT=0 BENCH="" BUILD=1 TIMEOUT=0 APPEND="" BUILD_ONLY=0
EXTRA=()
while [ $# -gt 0 ]; do
    case "$1" in
        --board) BOARD="$2"; shift ;;
        --test) TEST=1 ;;
        --gdb) GDB=1 ;;
        --trace) TRACE=1 ;;
        --mem) MEM="$2"; shift ;;
        --gic) GIC="$2"; shift ;;
        --el2) EL2=1 ;;
        --raw) RAW=1 ;;
        --cpu) CPU="$2"; shift ;;
        --icount) ICOUNT=1 ;;
        --bench) BENCH=icount; ICOUNT=1 ;;
        --bench-wall) BENCH=wall ;;
        --append) APPEND="$APPEND $2"; shift ;;
        --timeout) TIMEOUT="$2"; shift ;;
        --no-build) BUILD=0 ;;
        --build-only) BUILD_ONLY=1 ;;
        --) shift; EXTRA=("$@"); break ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "qemu-run.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
case "$GIC" in 2|3) ;; *) echo "qemu-run.sh: --gic must be 2 or 3" >&2; exit 2 ;; esac
case "$BOARD" in qemu-virt|rpi3b) ;; *) echo "qemu-run.sh: --board must be qemu-virt or rpi3b" >&2; exit 2 ;; esac
[ "$BOARD" = rpi3b ] && [ "$TRACE" = 1 ] && { echo "qemu-run.sh: --trace is QEMU virt's only (the rpi3b crate has no trace feature yet)" >&2; exit 2; }

APT_UPDATED=0
apt_install() { # apt_install PACKAGE...: as root, one apt-get update per run, then install
    if [ "$APT_UPDATED" = 0 ]; then
        apt-get update -qq >&2 || true
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

need() { # need CMD PACKAGE...: install the packages as root if CMD is missing, else say how
    local cmd=$1
    shift
    command -v "$cmd" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ]; then
        echo "qemu-run.sh: installing $* ..." >&2
        apt_install "$@" && command -v "$cmd" >/dev/null 2>&1 && return 0
    fi
    echo "qemu-run.sh: $cmd is missing; install it with: apt-get install -y $*" >&2
    exit 1
}

# C programs (user/c) need the cross compiler and picolibc (Debian packages).
PICOLIBC=${NX_PICOLIBC:-/usr/lib/picolibc/aarch64-linux-gnu}
need_c_toolchain() {
    local missing=()
    command -v "${NX_CROSS:-aarch64-linux-gnu-}gcc" >/dev/null 2>&1 || missing+=(gcc-aarch64-linux-gnu)
    [ -f "$PICOLIBC/lib/libc.a" ] || missing+=(picolibc-aarch64-linux-gnu)
    [ ${#missing[@]} = 0 ] && return 0
    if [ "$(id -u)" = 0 ]; then
        echo "qemu-run.sh: installing ${missing[*]} ..." >&2
        apt_install "${missing[@]}" || true
        missing=()
        command -v "${NX_CROSS:-aarch64-linux-gnu-}gcc" >/dev/null 2>&1 || missing+=(gcc-aarch64-linux-gnu)
        [ -f "$PICOLIBC/lib/libc.a" ] || missing+=(picolibc-aarch64-linux-gnu)
        [ ${#missing[@]} = 0 ] && return 0
    fi
    echo "qemu-run.sh: the C toolchain is missing; install it with: apt-get install -y ${missing[*]}" >&2
    exit 1
}

if [ "$BUILD" = 1 ]; then
    command -v cargo >/dev/null 2>&1 || { echo "qemu-run.sh: cargo is missing: see https://rustup.rs" >&2; exit 1; }
    if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
        echo "qemu-run.sh: adding Rust target $TARGET ..." >&2
        rustup target add "$TARGET" >&2 || { echo "qemu-run.sh: run: rustup target add $TARGET" >&2; exit 1; }
    fi
    need_c_toolchain
fi
[ "$BUILD_ONLY" = 1 ] || need qemu-system-aarch64 qemu-system-arm
need llvm-objcopy llvm

OUT=target/$TARGET/release
FEATURES=()
# defmt's string table sits at address 0 while the kernel runs in the top 512 GiB, out of adrp's
# +-4 GiB reach: trace builds use the large code model (absolute movz/movk addresses).
[ "$TRACE" = 1 ] && FEATURES=(--features trace --config "target.$TARGET.rustflags=['-Ccode-model=large']")
# The images: out/nx-rtos.elf and the raw out/nx-rtos.bin for QEMU virt; for the Pi
# out/rpi3b/kernel8.img (the raw image its firmware and QEMU load) and out/rpi3b/nx-rtos.elf
# (its symbols, for gdb).
IMG_DIR=out
[ "$BOARD" = rpi3b ] && IMG_DIR=out/rpi3b
if [ "$BUILD" = 1 ]; then
    # The Rust programs and the C programs' Rust archive; the board's build script then
    # compiles the C programs (user/c) and packs them all into the rom file system.
    cargo build -q --release --target "$TARGET" -p user -p clib
    DEFMT_LOG=${DEFMT_LOG:-info} cargo build -q --release --target "$TARGET" -p "$BOARD" "${FEATURES[@]}"
    mkdir -p "$IMG_DIR"
    cp "$OUT/$BOARD" "$IMG_DIR/nx-rtos.elf"
    if [ "$BOARD" = rpi3b ]; then
        llvm-objcopy -O binary "$IMG_DIR/nx-rtos.elf" "$IMG_DIR/kernel8.img"
    else
        llvm-objcopy -O binary out/nx-rtos.elf out/nx-rtos.bin
    fi
fi
[ "$BUILD_ONLY" = 1 ] && exit 0
[ -f "$IMG_DIR/nx-rtos.elf" ] || { echo "qemu-run.sh: no image in $IMG_DIR/; run without --no-build" >&2; exit 1; }

CMDLINE="semihosting$APPEND"
[ "$TEST" = 1 ] && CMDLINE="$CMDLINE test"
[ -n "$BENCH" ] && CMDLINE="$CMDLINE bench"
if [ "$BOARD" = rpi3b ]; then
    # The raw image: QEMU loads it at the header's text_offset (0x80000), enters it at EL2
    # with x0 pointing at ATAGS (RAM size, -append) and holds cores 1-3 on the spin table.
    # (An ELF would start all four cores at EL3 with no ATAGS.) RAM is fixed at 1 GiB.
    MACHINE=raspi3b
    ARGS=(-M raspi3b -nographic -no-reboot
          -semihosting-config enable=on,target=native
          -kernel out/rpi3b/kernel8.img -append "$CMDLINE")
else
    MACHINE="virt,gic-version=$GIC"
    [ "$EL2" = 1 ] && MACHINE="$MACHINE,virtualization=on"
    KERNEL=out/nx-rtos.elf
    [ "$RAW" = 1 ] && KERNEL=out/nx-rtos.bin
    ARGS=(-M "$MACHINE" -cpu "$CPU" -m "$MEM" -nographic -no-reboot
          -semihosting-config enable=on,target=native
          -kernel "$KERNEL" -append "$CMDLINE")
fi
# sleep=off: virtual time advances only with instructions (an idle guest skips to its next
# timer), so nothing the host does leaks into the counts.
[ "$ICOUNT" = 1 ] && ARGS+=(-icount shift=0,sleep=off)
if [ "$GDB" = 1 ]; then
    ARGS+=(-s -S)
    echo "qemu-run.sh: waiting for the debugger. In another terminal:" >&2
    echo "    gdb-multiarch $IMG_DIR/nx-rtos.elf -ex 'target remote localhost:1234'" >&2
fi

if [ "$TRACE" = 1 ]; then
    if ! command -v defmt-print >/dev/null 2>&1; then
        echo "qemu-run.sh: installing defmt-print ..." >&2
        cargo install -q defmt-print || { echo "qemu-run.sh: run: cargo install defmt-print" >&2; exit 1; }
    fi
    # QEMU writes semihosting output (the defmt frames) to its own stdout whatever chardev is
    # configured, so in this mode stdout feeds defmt-print (decoded lines on stderr) and the
    # console travels through a FIFO pair instead of stdio.
    rm -f out/trace.fifo out/console.in out/console.out
    mkfifo out/trace.fifo out/console.in out/console.out
    defmt-print -e "$IMG_DIR/nx-rtos.elf" < out/trace.fifo >&2 &
    TRACER=$!
    cat out/console.out &
    READER=$!
    if [ -t 0 ]; then stty raw -echo; trap 'stty sane' EXIT; fi
    cat > out/console.in &
    WRITER=$!
    for i in "${!ARGS[@]}"; do
        if [ "${ARGS[$i]}" = -nographic ]; then ARGS[$i]=-nodefaults; fi
    done
    ARGS+=(-display none -serial pipe:out/console)
    TO=()
    [ "$TIMEOUT" != 0 ] && TO=(timeout --foreground -k 5 "$TIMEOUT")
    status=0
    "${TO[@]}" qemu-system-aarch64 "${ARGS[@]}" "${EXTRA[@]}" > out/trace.fifo || status=$?
    kill "$WRITER" "$READER" 2>/dev/null || true
    wait "$TRACER" 2>/dev/null || true
    exit "$status"
fi
if [ -n "$BENCH" ]; then
    [ "$TIMEOUT" = 0 ] && TIMEOUT=600
    LOG=$IMG_DIR/bench-$BENCH.log
    status=0
    timeout --foreground -k 5 "$TIMEOUT" qemu-system-aarch64 "${ARGS[@]}" "${EXTRA[@]}" </dev/null | tee "$LOG" || status=$?
    if ! grep -q "^END BENCHMARKS" "$LOG"; then
        echo "qemu-run.sh: the benchmark did not finish (see $LOG)" >&2
        exit 1
    fi
    DEST=BENCHMARKS.md
    [ "$BENCH" = wall ] && DEST=out/BENCHMARKS-wall.md
    # The Pi's figures stay beside its image: BENCHMARKS.md is QEMU virt's.
    if [ "$BOARD" = rpi3b ]; then
        DEST=$IMG_DIR/BENCHMARKS.md
        [ "$BENCH" = wall ] && DEST=$IMG_DIR/BENCHMARKS-wall.md
    fi
    QDESC="-M virt,gic-version=$GIC -cpu $CPU -m $MEM"
    [ "$BOARD" = rpi3b ] && QDESC="-M raspi3b -kernel kernel8.img"
    {
        echo "# Benchmarks"
        echo
        if [ "$BENCH" = icount ]; then
            echo "Measured by \`./qemu-run.sh --bench\`: QEMU $(qemu-system-aarch64 --version | head -1 | sed 's/.*version //'),"
            echo "\`$QDESC -icount shift=0,sleep=off\`. Under \`-icount shift=0\` one virtual"
            echo "nanosecond is one guest instruction, so every figure below is an **instruction count** (per"
            echo "operation, per page or per byte) and repeats exactly from run to run. Instruction counts do"
            echo "not see cache or TLB misses; \`./qemu-run.sh --bench-wall\` runs the same program in"
            echo "wall-clock time (nanoseconds, noisy) for that side. Each figure has its baseline measured in"
            echo "the same run beside it; the program is \`user/src/bin/bench.rs\`."
            echo
            echo "\"Per extra page\" is what each page adds to an attach+detach pair over the 1-page pair"
            echo "((t(n) - t(1)) / (n - 1)), since the two syscalls are paid once per call, not per page;"
            echo "the baseline stores the same number of page descriptors into a table, per page. The"
            echo "shared ring and the pipe each move 4 MiB in 4 KiB chunks from one process to another,"
            echo "the consumer checking a stamp at both ends of every chunk; the ring copies once (producer"
            echo "into shared memory), the pipe twice (into and out of the kernel) plus its syscalls. The"
            echo "README's Benchmarks section discusses the targets."
        else
            echo "Measured by \`./qemu-run.sh --bench-wall\` (no icount): figures are wall-clock nanoseconds"
            echo "of an emulated CPU, noisy from run to run; compare ratios, not absolute values."
        fi
        echo
        # Only the table: the loads' and the kernel's own console lines stay in the log.
        sed -n '/^BEGIN BENCHMARKS/,/^END BENCHMARKS/p' "$LOG" | sed '1d;$d' | tr -d '\r' | grep '^|'
        echo
        grep "^bench: " "$LOG" | tr -d '\r'
    } > "$DEST"
    echo "qemu-run.sh: wrote $DEST" >&2
    # The exit status: 0 when every target in the table is met, 1 when any is missed (the
    # last line names them). The figures are instruction counts, so a wall-clock run judges
    # nothing: it fails only when the program did not finish.
    summary=$(grep "^bench: " "$LOG" | tail -1 | tr -d '\r')
    echo "qemu-run.sh: $summary" >&2
    [ "$BENCH" = wall ] && exit 0
    case "$summary" in
        "bench: all "*" targets met")
            if [ "$status" != 0 ]; then
                echo "qemu-run.sh: QEMU exited with status $status (see $LOG)" >&2
                exit 1
            fi
            exit 0 ;;
        "bench: "*" targets missed: "*) exit 1 ;;
        *) echo "qemu-run.sh: no summary line from the benchmark (see $LOG)" >&2; exit 1 ;;
    esac
fi
if [ "$TIMEOUT" != 0 ]; then
    exec timeout --foreground -k 5 "$TIMEOUT" qemu-system-aarch64 "${ARGS[@]}" "${EXTRA[@]}"
fi
exec qemu-system-aarch64 "${ARGS[@]}" "${EXTRA[@]}"
