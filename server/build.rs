//! Link settings for the `capstan` binary.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        // Pack the binary's relative relocations (DT_RELR; glibc ≥ 2.36, binutils ≥ 2.38, both
        // in Debian 12): the table the dynamic loader reads at every start shrinks from about
        // 2 MB (84,000 entries of 24 bytes) to a few KB, and those pages are memory an idle
        // server would otherwise keep (docs/performance.md, idle RSS). The binary stays
        // position-independent, so address-space randomisation is kept.
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
