//! A status's text cut to what its client can receive.
//!
//! A gRPC status travels in HTTP/2 trailers, and hyper's client (tonic's,
//! so the CLI's and the console's) refuses a header list over 16 KiB: a
//! longer status never reaches its client, who sees a broken stream instead
//! of the reason. The French message travels percent-encoded (a space or an
//! accented letter takes three bytes), the English one in base64 (four bytes
//! for three). Both are cut here to budgets that fit together: whole lines
//! first (a refused file's problems, one a line, then how many were left
//! out), and a first line too long on its own (an identifier sent back at
//! whatever size the caller chose) is cut itself.

use std::borrow::Cow;

/// The French message at most, percent-encoded.
pub(super) const FRENCH_BUDGET: usize = 6 * 1024;

/// The English message at most, as it is (5.4 KiB in base64).
pub(super) const ENGLISH_BUDGET: usize = 4 * 1024;

/// The size of `text` percent-encoded as tonic encodes `grpc-message`:
/// control bytes, bytes outside ASCII and ` "#%<>`?{}` take three bytes.
pub(super) fn percent_encoded_len(text: &str) -> usize {
    text.bytes()
        .map(|b| {
            if !(0x20..0x7f).contains(&b) || b" \"#%<>`?{}".contains(&b) {
                3
            } else {
                1
            }
        })
        .sum()
}

/// The last French line of a cut text: how many lines are not shown.
pub(super) fn more_fr(hidden: usize) -> String {
    if hidden == 1 {
        "… et 1 autre ligne non affichée".to_owned()
    } else {
        format!("… et {hidden} autres lignes non affichées")
    }
}

/// The last English line of a cut text.
pub(super) fn more_en(hidden: usize) -> String {
    if hidden == 1 {
        "… and 1 more line not shown".to_owned()
    } else {
        format!("… and {hidden} more lines not shown")
    }
}

/// `text` when its `size` is within `budget`; else its first lines that fit
/// with a last line `more(n)` for the `n` left out — a first line that does
/// not fit alone is cut (at a character) and ends with `…`.
pub(super) fn fit<'a>(
    text: &'a str,
    budget: usize,
    size: fn(&str) -> usize,
    more: fn(usize) -> String,
) -> Cow<'a, str> {
    if size(text) <= budget {
        return Cow::Borrowed(text);
    }
    let lines: Vec<&str> = text.split('\n').collect();
    let newline = size("\n");
    // The room the last line needs when `hidden` lines are left out.
    let tail = |hidden: usize| if hidden == 0 { 0 } else { newline + size(&more(hidden)) };
    let mut kept = String::new();
    let mut used = 0;
    let mut shown = 0;
    for line in &lines {
        let cost = if shown == 0 { 0 } else { newline } + size(line);
        if used + cost + tail(lines.len() - shown - 1) > budget {
            break;
        }
        if shown > 0 {
            kept.push('\n');
        }
        kept.push_str(line);
        used += cost;
        shown += 1;
    }
    if shown == 0 {
        let room = budget.saturating_sub(size("…") + tail(lines.len() - 1));
        let mut cut = 0;
        for (index, character) in lines[0].char_indices() {
            let end = index + character.len_utf8();
            if used + size(&lines[0][cut..end]) > room {
                break;
            }
            used += size(&lines[0][cut..end]);
            cut = end;
        }
        kept.push_str(&lines[0][..cut]);
        kept.push('…');
        shown = 1;
    }
    if shown < lines.len() {
        kept.push('\n');
        kept.push_str(&more(lines.len() - shown));
    }
    Cow::Owned(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_sizes_follow_tonics_set() {
        assert_eq!(percent_encoded_len("abc:12"), 6);
        assert_eq!(percent_encoded_len("a b"), 5);
        assert_eq!(percent_encoded_len("é"), 6);
        assert_eq!(percent_encoded_len("\n"), 3);
        assert_eq!(percent_encoded_len("{%}"), 9);
    }

    #[test]
    fn a_text_within_its_budget_is_kept_as_it_is() {
        let text = "ligne 1\nligne 2";
        assert!(matches!(fit(text, 100, percent_encoded_len, more_fr), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn whole_lines_are_kept_and_the_others_counted() {
        let lines: Vec<String> = (1..=1000)
            .map(|i| format!("people.csv:{i}: âge « x » invalide"))
            .collect();
        let text = lines.join("\n");
        let cut = fit(&text, FRENCH_BUDGET, percent_encoded_len, more_fr);
        assert!(
            percent_encoded_len(&cut) <= FRENCH_BUDGET,
            "{}",
            percent_encoded_len(&cut)
        );
        let shown: Vec<&str> = cut.lines().collect();
        let (last, kept) = shown.split_last().unwrap();
        assert!(kept.len() > 50, "as many lines as fit: {}", kept.len());
        assert_eq!(
            kept,
            &lines[..kept.len()].iter().map(String::as_str).collect::<Vec<_>>()[..]
        );
        assert_eq!(*last, more_fr(1000 - kept.len()));
        // One more line would not have fitted.
        let one_more = format!(
            "{}\n{}\n{}",
            kept.join("\n"),
            lines[kept.len()],
            more_fr(999 - kept.len())
        );
        assert!(percent_encoded_len(&one_more) > FRENCH_BUDGET);
    }

    #[test]
    fn a_first_line_too_long_is_cut_at_a_character() {
        let id = "é".repeat(100_000);
        let text = format!("structure « {id} » introuvable");
        let cut = fit(&text, FRENCH_BUDGET, percent_encoded_len, more_fr);
        assert!(percent_encoded_len(&cut) <= FRENCH_BUDGET);
        assert!(percent_encoded_len(&cut) > FRENCH_BUDGET - 6, "the whole room is used");
        assert!(cut.starts_with("structure « éé") && cut.ends_with("é…"), "{cut}");
        assert!(!cut.contains('\n'));

        let with_more = format!("{text}\nun autre problème\nun troisième");
        let cut = fit(&with_more, ENGLISH_BUDGET, str::len, more_en);
        assert!(cut.len() <= ENGLISH_BUDGET);
        let shown: Vec<&str> = cut.lines().collect();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(shown[0].ends_with('…'));
        assert_eq!(shown[1], "… and 2 more lines not shown");
    }

    #[test]
    fn one_hidden_line_is_said_in_the_singular() {
        assert_eq!(more_fr(1), "… et 1 autre ligne non affichée");
        assert_eq!(more_en(1), "… and 1 more line not shown");
        let text = format!("{}\n{}", "a".repeat(30), "b".repeat(50));
        assert_eq!(
            fit(&text, 70, str::len, more_en),
            format!("{}\n… and 1 more line not shown", "a".repeat(30))
        );
    }
}
