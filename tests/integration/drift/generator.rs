//! The twin of the reference script's generator: random inputs regenerated from their spec.

use serde_json::Value;

use super::num;

struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 * 2f64.powi(-53)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cell {
    Num(f64),
    Str(String),
}

fn cell(v: &Value) -> Cell {
    match v {
        Value::String(s) => Cell::Str(s.clone()),
        other => Cell::Num(num(other)),
    }
}

pub(super) fn generate(spec: &Value) -> Vec<Cell> {
    let n = spec.get("n").and_then(Value::as_u64).unwrap_or(0) as usize;
    let seed = spec.get("seed").and_then(Value::as_u64).unwrap_or(0);
    let mut rng = SplitMix64(seed);
    match spec["gen"].as_str().unwrap() {
        "normal" => (0..n)
            .map(|_| {
                let mut s = 0.0;
                for _ in 0..12 {
                    s += rng.uniform();
                }
                let mut v = num(&spec["loc"]) + num(&spec["scale"]) * (s - 6.0);
                if let Some(g) = spec.get("grid") {
                    let g = num(g);
                    v = (v * g).floor() / g;
                }
                Cell::Num(v)
            })
            .collect(),
        "int" => {
            let (low, high) = (
                spec["low"].as_i64().unwrap(),
                spec["high"].as_i64().unwrap(),
            );
            let width = (high - low + 1) as f64;
            (0..n)
                .map(|_| Cell::Num((low + (rng.uniform() * width).floor() as i64) as f64))
                .collect()
        }
        "choice" => {
            let values: Vec<Cell> = spec["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(cell)
                .collect();
            let weights: Vec<u64> = spec.get("weights").map_or_else(
                || vec![1; values.len()],
                |w| {
                    w.as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_u64().unwrap())
                        .collect()
                },
            );
            let total: u64 = weights.iter().sum();
            let cum: Vec<u64> = weights
                .iter()
                .scan(0, |s, w| {
                    *s += w;
                    Some(*s)
                })
                .collect();
            (0..n)
                .map(|_| {
                    let r = (rng.uniform() * total as f64).floor() as u64;
                    values[cum.iter().position(|&c| r < c).unwrap()].clone()
                })
                .collect()
        }
        "const" => vec![cell(&spec["value"]); n],
        "concat" => spec["parts"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(generate)
            .collect(),
        kind @ ("nan_every" | "inf_every") => {
            let k = spec["every"].as_u64().unwrap() as usize;
            generate(&spec["base"])
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    if i % k != k - 1 {
                        c
                    } else if kind == "nan_every" {
                        Cell::Num(f64::NAN)
                    } else if (i / k) % 2 == 0 {
                        Cell::Num(f64::INFINITY)
                    } else {
                        Cell::Num(f64::NEG_INFINITY)
                    }
                })
                .collect()
        }
        other => panic!("unknown generator {other}"),
    }
}

pub(super) fn gen_f64(spec: &Value) -> Vec<f64> {
    generate(spec)
        .into_iter()
        .map(|c| match c {
            Cell::Num(x) => x,
            Cell::Str(s) => panic!("string {s} in a numeric sample"),
        })
        .collect()
}

#[test]
fn generator_twin_is_splitmix64() {
    // splitmix64 with seed 0: first output 0xE220A8397B1DCDAF (the reference sequence).
    assert_eq!(SplitMix64(0).next(), 0xE220_A839_7B1D_CDAF);
}
