//! Mentions: which members a message's text names as `@up`.
//!
//! A mention is an `@` at the start of the text or after a character that
//! cannot be part of a user id (a space, punctuation other than `. _ @ -`),
//! followed by a user id; dots that end the id are taken as the sentence's
//! (`thanks @up201905678.` names `up201905678`). Only the group's members
//! count, each once, in the order the text names them, at most
//! [`MAX_MENTIONS`]. `@name` is a client's convenience: the web client
//! completes a typed name into the member's `@up`.

use crate::ids::Up;
use crate::model::MAX_MENTIONS;
use std::collections::HashSet;

/// Characters a user id is made of (see [`Up`]).
fn in_up(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-')
}

/// The `@up`s of `text` that are members (`is_member`), each once, in
/// order, at most [`MAX_MENTIONS`].
pub fn mentioned(text: &str, is_member: impl Fn(&Up) -> bool) -> Vec<Up> {
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    let mut previous: Option<char> = None;
    for (at, c) in text.char_indices() {
        let starts = c == '@' && !previous.is_some_and(in_up);
        previous = Some(c);
        if !starts {
            continue;
        }
        let rest = &text[at + 1..];
        let end = rest.find(|c: char| !in_up(c)).unwrap_or(rest.len());
        let Ok(up) = Up::parse(rest[..end].trim_end_matches('.')) else {
            continue;
        };
        if is_member(&up) && seen.insert(up.clone()) {
            found.push(up);
            if found.len() == MAX_MENTIONS {
                break;
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ups(found: Vec<Up>) -> Vec<String> {
        found.into_iter().map(String::from).collect()
    }

    fn members<'a>(list: &'a [&str]) -> impl Fn(&Up) -> bool + 'a {
        move |up: &Up| list.contains(&up.as_str())
    }

    #[test]
    fn members_named_with_an_at_are_mentioned_once_in_order() {
        let text = "@up2 and @up1, see @up2's note (cc @up3)";
        assert_eq!(
            ups(mentioned(text, members(&["up1", "up2"]))),
            ["up2", "up1"]
        );
    }

    #[test]
    fn a_sentence_dot_is_not_part_of_the_id_and_an_email_is_no_mention() {
        assert_eq!(ups(mentioned("thanks @up1.", members(&["up1"]))), ["up1"]);
        assert!(mentioned("mail ana@up1 now", members(&["up1"])).is_empty());
        assert!(mentioned("@ alone, @", members(&["up1"])).is_empty());
    }

    #[test]
    fn at_most_twenty_are_kept() {
        let names: Vec<String> = (0..30).map(|i| format!("up{i}")).collect();
        let text: String = names.iter().map(|n| format!("@{n} ")).collect();
        let found = mentioned(&text, |_| true);
        assert_eq!(found.len(), MAX_MENTIONS);
        assert_eq!(found[0].as_str(), "up0");
    }

    #[test]
    fn text_of_any_script_around_mentions_is_fine() {
        assert_eq!(
            ups(mentioned("olá—@up1! 👍@up2", members(&["up1", "up2"]))),
            ["up1", "up2"]
        );
    }
}
