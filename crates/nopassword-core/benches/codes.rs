//! Per-operation cost of the hot paths: generating and hashing a code, and verifying a
//! presented code against a stored hash. Run with `cargo bench -p nopassword-core`
//! (or `cargo xtask bench`).

// criterion's macros generate undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use nopassword_core::{
    code::CodeGenerator,
    hashing::{CodeHasher, SystemRng},
    secret::SecretString,
    settings::HashAlgorithm,
};

fn codes(c: &mut Criterion) {
    let key = SecretString::new("bench-secret-key-0123456789abcdef0123");
    for alg in [HashAlgorithm::Sha256, HashAlgorithm::Sha512] {
        let generator = CodeGenerator::new(alg, 20, false);
        let hasher = CodeHasher::new(alg, &key, &[]);
        let rng = SystemRng;
        c.bench_function(&format!("generate+hash/{alg}"), |b| {
            b.iter(|| {
                let code = generator.generate(&rng);
                black_box(hasher.hash(black_box(code.expose())))
            });
        });
        let code = generator.generate(&rng);
        let stored = hasher.hash(code.expose());
        c.bench_function(&format!("verify/{alg}"), |b| {
            b.iter(|| {
                let presented = black_box(code.expose());
                let hashed = hasher.candidates(presented).next().expect("primary key");
                black_box(hashed.key == stored.key && hashed.verifies(&stored.verifier))
            });
        });
    }
    let numeric = CodeGenerator::new(HashAlgorithm::Sha256, 6, true);
    let hasher = CodeHasher::new(HashAlgorithm::Sha256, &key, &[]);
    c.bench_function("generate+hash/numeric6", |b| {
        b.iter(|| black_box(hasher.hash(numeric.generate(&SystemRng).expose())));
    });
}

criterion_group!(benches, codes);
criterion_main!(benches);
