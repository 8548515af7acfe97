//! Words of a text as search sees them: where they are, their folded form
//! (the search terms), and which of them a query marks.
//!
//! A word is a run of letters and digits (combining marks belong to the
//! word they follow); a CJK ideograph, hiragana or katakana is a word by
//! itself, since those scripts do not put spaces between words. A word is
//! folded to a term: compatibility decomposition (NFKD), combining marks
//! dropped, lower case, a few letters that do not decompose spelled out
//! (`ß` → `ss`, `æ` → `ae`, `ø` → `o`, …), only letters and digits kept,
//! at most [`MAX_TERM_CHARS`] characters. So `Café`, `CAFE` and `café`
//! are all the term `cafe`. There is no stemming: `meeting` does not find
//! `meet`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use utoipa::ToSchema;

/// The most characters of a term; longer words are cut (the same way in
/// texts and queries, so they still match).
pub const MAX_TERM_CHARS: usize = 40;

/// A word of a text, by byte offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word<'a> {
    /// The word as written.
    pub text: &'a str,
    /// Its first byte.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
}

/// Where a query's word is in a message's text, in UTF-16 code units (the
/// indices of a JavaScript string: `message.slice(start, end)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Match {
    /// The first code unit of the word.
    pub start: u32,
    /// One past its last code unit.
    pub end: u32,
}

/// Whether `c` continues or starts a word.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// Whether `c` is a word by itself (scripts written without spaces).
fn stands_alone(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // hiragana, katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x3134F) // CJK extensions B to G
}

/// The words of `text`, in order.
pub fn words(text: &str) -> Vec<Word<'_>> {
    let word = |start: usize, end: usize| Word {
        text: &text[start..end],
        start,
        end,
    };
    let mut found = Vec::new();
    let mut start: Option<usize> = None;
    for (at, c) in text.char_indices() {
        if stands_alone(c) {
            found.extend(start.take().map(|from| word(from, at)));
            found.push(word(at, at + c.len_utf8()));
        } else if is_word_char(c) {
            start.get_or_insert(at);
        } else {
            found.extend(start.take().map(|from| word(from, at)));
        }
    }
    found.extend(start.map(|from| word(from, text.len())));
    found
}

/// Letters that compatibility decomposition leaves whole, spelled out as
/// their base letters.
fn spelled_out(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' | 'ẞ' => "ss",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'ø' | 'Ø' => "o",
        'đ' | 'Đ' | 'ð' | 'Ð' => "d",
        'ł' | 'Ł' => "l",
        'þ' | 'Þ' => "th",
        'ı' => "i",
        _ => return None,
    })
}

/// The term of a word: folded as the module says; empty when nothing of
/// it is a letter or digit.
pub fn fold(word: &str) -> String {
    let mut term = String::new();
    let mut chars = 0;
    for c in word.nfkd().filter(|c| !is_combining_mark(*c)) {
        for lower in c.to_lowercase() {
            let pieces = match spelled_out(lower) {
                Some(text) => text,
                None if lower.is_alphanumeric() => {
                    term.push(lower);
                    chars += 1;
                    if chars == MAX_TERM_CHARS {
                        return term;
                    }
                    continue;
                }
                None => continue,
            };
            for piece in pieces.chars() {
                term.push(piece);
                chars += 1;
                if chars == MAX_TERM_CHARS {
                    return term;
                }
            }
        }
    }
    term
}

/// The distinct terms of `text`, sorted: what a message is found by.
pub fn terms_of(text: &str) -> Vec<String> {
    let terms: BTreeSet<String> = words(text)
        .into_iter()
        .map(|word| fold(word.text))
        .filter(|term| !term.is_empty())
        .collect();
    terms.into_iter().collect()
}

/// Where the words of `text` whose terms are among `terms` are.
pub fn matches(text: &str, terms: &[String]) -> Vec<Match> {
    let mut found = Vec::new();
    // UTF-16 position of byte `done`, advanced as the words come in order.
    let (mut done, mut units) = (0usize, 0u32);
    let mut units_at = |byte: usize| {
        units += text[done..byte]
            .chars()
            .map(|c| c.len_utf16() as u32)
            .sum::<u32>();
        done = byte;
        units
    };
    for word in words(text) {
        let term = fold(word.text);
        if !term.is_empty() && terms.contains(&term) {
            let start = units_at(word.start);
            let end = units_at(word.end);
            found.push(Match { start, end });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<&str> {
        words(text).into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn words_are_runs_of_letters_and_digits_and_ideographs_stand_alone() {
        assert_eq!(
            texts("Hello, wörld! 42nd x_y"),
            ["Hello", "wörld", "42nd", "x", "y"]
        );
        assert_eq!(texts("東京タワー to"), ["東", "京", "タ", "ワ", "ー", "to"]);
        assert_eq!(texts("  ...  "), Vec::<&str>::new());
        // A combining accent stays in its word.
        assert_eq!(texts("cafe\u{301} noir"), ["cafe\u{301}", "noir"]);
    }

    #[test]
    fn folding_drops_case_and_accents_and_spells_out_letters() {
        assert_eq!(fold("Café"), "cafe");
        assert_eq!(fold("CAFE\u{301}"), "cafe");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("ÆRØ"), "aero");
        assert_eq!(fold("Ｆｕｌｌ"), "full");
        assert_eq!(fold("ﬁne"), "fine");
        assert_eq!(fold("Ünïcödé"), "unicode");
        assert_eq!(fold("\u{301}"), "");
        assert_eq!(fold(&"a".repeat(100)).len(), MAX_TERM_CHARS);
    }

    #[test]
    fn terms_are_distinct_and_sorted() {
        assert_eq!(
            terms_of("The cat saw THE café, the CAFE!"),
            ["cafe", "cat", "saw", "the"]
        );
        assert!(terms_of("🙂 !!").is_empty());
    }

    #[test]
    fn matches_are_utf16_ranges_of_the_written_words() {
        let text = "🙂 Café au lait, café!";
        let terms = vec!["cafe".to_owned()];
        let found = matches(text, &terms);
        // 🙂 is two UTF-16 code units; "Café" starts after it and a space.
        assert_eq!(
            found,
            [Match { start: 3, end: 7 }, Match { start: 17, end: 21 }]
        );
        let utf16: Vec<u16> = text.encode_utf16().collect();
        for m in &found {
            let word = String::from_utf16(&utf16[m.start as usize..m.end as usize]).unwrap();
            assert_eq!(fold(&word), "cafe");
        }
        assert!(matches(text, &["tea".to_owned()]).is_empty());
    }
}
