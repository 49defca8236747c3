//! The audit that closes the gaps of rules 3–4: linear algebra over what an
//! adversary holds.
//!
//! Rules 3 and 4 look at one equation at a time, but the equations share
//! unknowns: a band cell sits both in its group (`structures = Σ bands`) and in
//! its measure (networks total = departments total). Chained together they can
//! pin a hidden cell even when each equation has two unknowns (e.g. three
//! networks whose band cells close a cycle through the fully published
//! department). So, after the rules, the hidden cells are the unknowns of the
//! system an adversary can write from the published figures:
//!
//! - per measure, `Σ hidden networks − Σ hidden departments = published difference`;
//! - per group, `hidden structures − Σ hidden bands = published difference`;
//! - non-negativity, used only where it is exact: hidden cells of a measure
//!   whose known sum is zero are all zero (nothing to protect: the whole
//!   measure is zero in that partition).
//!
//! A hidden cell is recomputable when its unit vector lies in the row space of
//! that system; in reduced row echelon form, exactly when its pivot row has no
//! other non-zero entry. The coefficients are 0 and ±1 and the systems small
//! (a few hundred unknowns), so `f64` elimination with partial pivoting is
//! exact enough; a tolerance of 1e-9 separates zeros.

use super::grid::{Grid, BANDS, STRUCTURES};

/// Where a hidden cell is: (partition, group, measure).
pub(crate) type At = (usize, usize, usize);

const EPS: f64 = 1e-9;

/// Hidden cells an adversary can recompute (known zeros excepted).
pub(crate) fn recomputable(grid: &Grid) -> Vec<At> {
    let mut unknowns: Vec<At> = Vec::new();
    for (p, part) in grid.parts.iter().enumerate() {
        for (g, cells) in part.iter().enumerate() {
            unknowns.extend(
                cells
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.suppressed)
                    .map(|(m, _)| (p, g, m)),
            );
        }
    }
    if unknowns.is_empty() {
        return Vec::new();
    }
    let column = |at: At| unknowns.binary_search(&at).ok();
    let n = unknowns.len();
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut known_zero = vec![false; n];
    for m in 0..grid.measures() {
        let mut row = vec![0.0; n];
        for (i, (p, _, um)) in unknowns.iter().enumerate() {
            if *um == m {
                row[i] = if *p == 0 { 1.0 } else { -1.0 };
            }
        }
        rows.push(row);
        for p in 0..2 {
            let q = 1 - p;
            let published = |part: usize| -> u64 {
                grid.parts[part]
                    .iter()
                    .filter(|c| !c[m].suppressed)
                    .map(|c| c[m].value)
                    .sum()
            };
            if grid.parts[q].iter().all(|c| !c[m].suppressed) && published(q) == published(p) {
                for (i, (up, _, um)) in unknowns.iter().enumerate() {
                    if *up == p && *um == m {
                        known_zero[i] = true;
                    }
                }
            }
        }
    }
    for (p, part) in grid.parts.iter().enumerate() {
        for g in 0..part.len() {
            let mut row = vec![0.0; n];
            if let Some(i) = column((p, g, STRUCTURES)) {
                row[i] = 1.0;
            }
            for b in BANDS {
                if let Some(i) = column((p, g, b)) {
                    row[i] = -1.0;
                }
            }
            rows.push(row);
        }
    }
    for (i, zero) in known_zero.iter().enumerate() {
        if *zero {
            let mut row = vec![0.0; n];
            row[i] = 1.0;
            rows.push(row);
        }
    }
    reduce(&mut rows);
    rows.iter()
        .filter_map(|row| {
            let mut non_zero = row.iter().enumerate().filter(|(_, x)| x.abs() > EPS);
            match (non_zero.next(), non_zero.next()) {
                (Some((i, _)), None) if !known_zero[i] => Some(unknowns[i]),
                _ => None,
            }
        })
        .collect()
}

/// Gauss–Jordan elimination in place (reduced row echelon form).
fn reduce(m: &mut [Vec<f64>]) {
    let cols = m.first().map_or(0, Vec::len);
    let mut rank = 0;
    for c in 0..cols {
        if rank == m.len() {
            break;
        }
        let pivot = (rank..m.len())
            .max_by(|a, b| m[*a][c].abs().total_cmp(&m[*b][c].abs()))
            .unwrap_or(rank);
        if m[pivot][c].abs() < EPS {
            continue;
        }
        m.swap(rank, pivot);
        let lead = m[rank][c];
        m[rank].iter_mut().for_each(|x| *x /= lead);
        let pivot_row = m[rank].clone();
        for (r, row) in m.iter_mut().enumerate() {
            let f = row[c];
            if r != rank && f.abs() > EPS {
                row.iter_mut().zip(&pivot_row).for_each(|(x, p)| *x -= f * p);
            }
        }
        rank += 1;
    }
}
