//! Packs the user programs into the rom file system image that the kernel embeds: the Rust
//! programs (`user/src/bin/*.rs`, built by cargo beforehand), the C programs (`user/c/NAME.c`
//! or `user/c/NAME/*.c`, compiled here with `tools/nx-cc`), any ELF dropped into `out/extra/`,
//! and the deliberately malformed files the tests spawn. Also passes the board's linker script
//! (`link.ld` beside its Cargo.toml). Every board crate uses this one build script
//! (`build = "../build.rs"` in its Cargo.toml), so all boards carry the same programs.
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.join("../..").canonicalize().unwrap();
    println!(
        "cargo:rustc-link-arg-bins=-T{}",
        manifest.join("link.ld").display()
    );
    println!("cargo:rerun-if-changed=link.ld");
    // defmt's linker script: without it the frames reference no table and nothing is printed.
    if std::env::var_os("CARGO_FEATURE_TRACE").is_some() {
        println!("cargo:rustc-link-arg-bins=-Tdefmt.x");
    }
    println!("cargo:rerun-if-env-changed=USER_BIN_DIR");
    // The program list is this directory's contents: a program added or removed there must
    // rebuild the rom file system (cargo watches a directory's files recursively).
    println!(
        "cargo:rerun-if-changed={}",
        root.join("user/src/bin").display()
    );

    let bin_dir = std::env::var("USER_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target/aarch64-unknown-none-softfloat/release"));
    let mut names: Vec<String> = std::fs::read_dir(root.join("user/src/bin"))
        .expect("user/src/bin")
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "rs").then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    names.sort();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for n in &names {
        let p = bin_dir.join(n);
        println!("cargo:rerun-if-changed={}", p.display());
        let data = std::fs::read(&p).unwrap_or_else(|_| {
            panic!(
                "user program {} not built: run `cargo build -p user --release --target \
                 aarch64-unknown-none-softfloat` first (./qemu-run.sh does it)",
                p.display()
            )
        });
        files.push((n.clone(), data));
    }
    for (n, data) in c_programs(&root).into_iter().chain(extra_programs(&root)) {
        if files.iter().any(|(m, _)| *m == n) || n == "badelf" || n == "garbage" {
            panic!("two programs named {n}: rename one (user/src/bin, user/c or out/extra)");
        }
        files.push((n, data));
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    // Malformed programs for the loader's bad-input tests.
    let hello = files
        .iter()
        .find(|(n, _)| n == "hello")
        .map(|(_, d)| d.clone())
        .unwrap_or_default();
    files.push(("badelf".into(), hello[..hello.len().min(300)].to_vec()));
    files.push((
        "garbage".into(),
        b"#!/bin/sh\necho this is not an ELF file\n".to_vec(),
    ));
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let img = kernel::fs::romfs::build(&refs);
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(out.join("romfs.img"), img).unwrap();
}

/// The C programs of `user/c`: `NAME.c`, or a folder `NAME/` whose `.c` files make one
/// program, each compiled and linked by `tools/nx-cc` into `target/nx-cc/bin/NAME`.
fn c_programs(root: &Path) -> Vec<(String, Vec<u8>)> {
    let src = root.join("user/c");
    for p in ["user/c", "user/clib/include", "user/clib/rt", "tools/nx-cc"] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    let clib = root.join("target/aarch64-unknown-none-softfloat/release/libclib.a");
    println!("cargo:rerun-if-changed={}", clib.display());
    println!("cargo:rerun-if-env-changed=NX_CROSS");
    println!("cargo:rerun-if-env-changed=NX_PICOLIBC");
    let Ok(dir) = std::fs::read_dir(&src) else {
        return Vec::new();
    };
    let mut progs: Vec<(String, Vec<PathBuf>, Option<PathBuf>)> = Vec::new();
    for e in dir.filter_map(Result::ok) {
        let p = e.path();
        let Some(stem) = p.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
            continue;
        };
        if p.is_dir() {
            let mut srcs: Vec<PathBuf> = std::fs::read_dir(&p)
                .unwrap()
                .filter_map(|e| Some(e.ok()?.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "c"))
                .collect();
            srcs.sort();
            if !srcs.is_empty() {
                progs.push((stem, srcs, Some(p)));
            }
        } else if p.extension().is_some_and(|x| x == "c") {
            progs.push((stem, vec![p], None));
        }
    }
    progs.sort();
    let out_dir = root.join("target/nx-cc/bin");
    std::fs::create_dir_all(&out_dir).unwrap();
    progs
        .into_iter()
        .map(|(name, srcs, folder)| {
            let out = out_dir.join(&name);
            let mut cc = Command::new(root.join("tools/nx-cc"));
            cc.arg("-Wall").arg("-o").arg(&out);
            if let Some(f) = folder {
                cc.arg("-I").arg(f);
            }
            let r = cc.args(&srcs).output().expect("run tools/nx-cc");
            if !r.status.success() {
                panic!(
                    "C program {name} did not build:\n{}{}",
                    String::from_utf8_lossy(&r.stdout),
                    String::from_utf8_lossy(&r.stderr)
                );
            }
            (name, std::fs::read(&out).unwrap())
        })
        .collect()
}

/// Programs built outside the tree (for example with `tools/nx-cc -o out/extra/foo foo.c`):
/// every file of `out/extra/` goes into `/bin` under its name.
fn extra_programs(root: &Path) -> Vec<(String, Vec<u8>)> {
    let dir = root.join("out/extra");
    // Watched even while empty, so that the first program dropped there is seen.
    std::fs::create_dir_all(&dir).unwrap();
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            if !p.is_file() {
                return None;
            }
            let name = p.file_name()?.to_string_lossy().into_owned();
            Some((name, std::fs::read(&p).ok()?))
        })
        .collect();
    v.sort();
    v
}
