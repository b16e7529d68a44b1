//! Embeds every protocol and vignette file, so the binary carries its clinical content and
//! a new file needs no code change.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    let mut code = String::new();
    for folder in ["protocols", "vignettes"] {
        println!("cargo:rerun-if-changed={folder}");
        let mut files: Vec<_> = std::fs::read_dir(folder)
            .map(|dir| {
                dir.filter_map(|entry| entry.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        let name = folder.to_uppercase();
        writeln!(code, "pub static {name}: &[(&str, &str)] = &[").unwrap();
        for path in files {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let absolute = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join(&path);
            writeln!(
                code,
                "    ({stem:?}, include_str!({:?})),",
                absolute.display()
            )
            .unwrap();
        }
        writeln!(code, "];").unwrap();
    }
    std::fs::write(Path::new(&out).join("content.rs"), code).unwrap();
}
