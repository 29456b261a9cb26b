//! Splitting models into child pipelines that each fit GitLab's limits.
//!
//! Each model goes to the shard that ranks highest for it (rendezvous hashing of the model's
//! name and the shard number, with a fixed hash), and the number of shards is the smallest
//! at which every shard fits its budget. So:
//!
//! - the same models always land in the same shards (no randomness, no order dependence);
//! - adding a model moves no other model while the shard count stays the same, and when the
//!   count grows by one, only the models the new shard wins move (about one in N);
//! - every shard holds whole models.

/// What a model costs in a child pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cost {
    /// The model's name (its `[model.<name>]` key).
    pub name: String,
    /// Its jobs' share of the parsed size, in bytes.
    pub bytes: u64,
    /// Its jobs with an `environment` (deployments).
    pub deployments: u64,
}

/// What one child pipeline may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Bytes left for models once the child's fixed part is counted.
    pub bytes: u64,
    /// Deployment jobs per pipeline.
    pub deployments: u64,
}

/// A model that does not fit even a shard of its own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "model `{name}` alone needs {bytes} bytes and {deployments} deployment jobs, more than one child pipeline may hold ({budget_bytes} bytes, {budget_deployments} deployments)"
)]
pub struct TooBig {
    /// The model.
    pub name: String,
    /// Its bytes.
    pub bytes: u64,
    /// Its deployments.
    pub deployments: u64,
    /// The budget's bytes.
    pub budget_bytes: u64,
    /// The budget's deployments.
    pub budget_deployments: u64,
}

/// FNV-1a, 64 bits: stable across platforms and releases, unlike `std`'s hasher.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in *part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The shard `name` goes to among `n`.
pub fn shard_of(name: &str, n: usize) -> usize {
    (0..n)
        .max_by_key(|k| {
            (
                fnv1a(&[name.as_bytes(), &k.to_le_bytes()]),
                std::cmp::Reverse(*k),
            )
        })
        .unwrap_or(0)
}

/// The models of each shard, in their input order; one shard when everything fits. The
/// `k`-th shard holds the models [`shard_of`] gives `k`.
pub fn split(models: &[Cost], budget: Budget) -> Result<Vec<Vec<usize>>, TooBig> {
    if let Some(m) = models
        .iter()
        .find(|m| m.bytes > budget.bytes || m.deployments > budget.deployments)
    {
        return Err(TooBig {
            name: m.name.clone(),
            bytes: m.bytes,
            deployments: m.deployments,
            budget_bytes: budget.bytes,
            budget_deployments: budget.deployments,
        });
    }
    let total_bytes: u64 = models.iter().map(|m| m.bytes).sum();
    let total_deployments: u64 = models.iter().map(|m| m.deployments).sum();
    let lower_bound = total_bytes
        .div_ceil(budget.bytes.max(1))
        .max(total_deployments.div_ceil(budget.deployments.max(1)))
        .max(1);
    let mut n = usize::try_from(lower_bound).unwrap_or(usize::MAX);
    loop {
        let mut shards = vec![Vec::new(); n];
        let mut used = vec![(0u64, 0u64); n];
        for (i, m) in models.iter().enumerate() {
            let k = if n == 1 { 0 } else { shard_of(&m.name, n) };
            shards[k].push(i);
            used[k].0 += m.bytes;
            used[k].1 += m.deployments;
        }
        if used
            .iter()
            .all(|(b, d)| *b <= budget.bytes && *d <= budget.deployments)
        {
            // A shard may be empty; it keeps its number, so that every model stays where
            // `shard_of` puts it (its child pipeline then holds a no-op job: GitLab refuses
            // an empty pipeline).
            return Ok(shards);
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn costs(n: usize) -> Vec<Cost> {
        (0..n)
            .map(|i| Cost {
                name: format!("model-{i:04}"),
                bytes: 10_000 + (i as u64 % 7) * 500,
                deployments: 1,
            })
            .collect()
    }

    const BUDGET: Budget = Budget {
        bytes: 900_000,
        deployments: 500,
    };

    #[test]
    fn everything_fits_in_one_when_it_can() {
        assert_eq!(
            split(&costs(10), BUDGET).unwrap(),
            vec![(0..10).collect::<Vec<_>>()]
        );
    }

    #[test]
    fn shards_fit_hold_every_model_once_and_are_stable() {
        let models = costs(2000);
        let shards = split(&models, BUDGET).unwrap();
        assert!(shards.len() >= 23, "{}", shards.len());
        let mut seen: Vec<usize> = shards.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..2000).collect::<Vec<_>>());
        for s in &shards {
            assert!(s.iter().map(|&i| models[i].bytes).sum::<u64>() <= BUDGET.bytes);
        }
        assert_eq!(split(&models, BUDGET).unwrap(), shards, "deterministic");
    }

    #[test]
    fn adding_a_model_moves_few_others() {
        let before = costs(1000);
        let mut after = before.clone();
        after.push(Cost {
            name: "newcomer".into(),
            bytes: 10_000,
            deployments: 1,
        });
        let place = |models: &[Cost]| -> Vec<(String, usize)> {
            let shards = split(models, BUDGET).unwrap();
            let mut out = Vec::new();
            for (k, s) in shards.iter().enumerate() {
                for &i in s {
                    out.push((models[i].name.clone(), k));
                }
            }
            out.sort();
            out
        };
        let (a, b) = (place(&before), place(&after));
        let moved = a.iter().filter(|x| !b.contains(x)).count();
        assert!(
            moved <= before.len() / 8,
            "{moved} of {} moved",
            before.len()
        );
    }

    #[test]
    fn a_model_too_big_for_any_shard_is_named() {
        let mut m = costs(3);
        m[1].bytes = 2_000_000;
        let e = split(&m, BUDGET).unwrap_err();
        assert_eq!(e.name, "model-0001");
    }
}
