//! Packs the user programs into the rom file system image that the kernel embeds, adds the
//! deliberately malformed files the tests spawn, and passes the linker script.
use std::path::PathBuf;

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
