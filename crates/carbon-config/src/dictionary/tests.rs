use proptest::prelude::*;

use super::*;

/// The words of `words` found in `text` by the dictionary, by index.
fn found_in(words: &[&str], texts: &[&str]) -> Vec<usize> {
    let dictionary = Dictionary::new(words);
    let mut found = dictionary.no_state_found();
    for text in texts {
        dictionary.mark_found(text.as_bytes(), &mut found);
    }
    (0..words.len())
        .filter(|&i| found.contains(&dictionary, i))
        .collect()
}

#[test]
fn words_inside_others_and_at_the_ends_are_found() {
    let words = [
        "jdbc/WSO2CarbonDB",
        "WSO2CarbonDB",
        "Carbon",
        "DB",
        "absent",
        "jdbc/X",
    ];
    assert_eq!(
        found_in(&words, &["<name>jdbc/WSO2CarbonDB</name>"]),
        [0, 1, 2, 3]
    );
    assert_eq!(found_in(&words, &["jdbc/X"]), [5]);
    assert_eq!(found_in(&words, &["", "jdbc/"]), Vec::<usize>::new());
}

#[test]
fn a_word_given_twice_is_found_under_both_places_and_counts_once() {
    let words = ["ab", "cd", "ab"];
    let dictionary = Dictionary::new(&words);
    let mut found = dictionary.no_state_found();
    dictionary.mark_found(b"xxab", &mut found);
    assert!(found.contains(&dictionary, 0) && found.contains(&dictionary, 2));
    assert!(!found.all(&dictionary));
    dictionary.mark_found(b"cd", &mut found);
    assert!(found.all(&dictionary), "two distinct words, both found");
}

#[test]
fn the_empty_word_is_in_every_text() {
    assert_eq!(found_in(&["", "a"], &[""]), [0]);
    assert_eq!(found_in(&["", "a"], &["ba"]), [0, 1]);
}

#[test]
fn no_words_find_nothing_and_all_are_found() {
    let dictionary = Dictionary::new::<&str>(&[]);
    let mut found = dictionary.no_state_found();
    dictionary.mark_found(b"anything", &mut found);
    assert!(found.all(&dictionary));
    assert_eq!(dictionary.longest_at_each_end(b"abc").count(), 0);
}

#[test]
fn bytes_beyond_ascii_are_matched_as_bytes() {
    let words = ["Bücher", "ü", "\u{202e}"];
    assert_eq!(found_in(&words, &["die Bücher"]), [0, 1]);
    assert_eq!(found_in(&words, &["x\u{202e}y"]), [2]);
}

#[test]
fn the_longest_word_at_each_end_is_reported() {
    let words = ["gov", "jdbc/gov", "c1", "c12"];
    let dictionary = Dictionary::new(&words);
    let ends: Vec<(usize, usize)> = dictionary
        .longest_at_each_end(b"dbConfig gov, jdbc/gov, c12")
        .collect();
    assert_eq!(ends, [(0, 12), (1, 22), (2, 26), (3, 27)]);
}

/// Words of a small alphabet, so that they overlap, nest and repeat.
fn words_and_text() -> impl Strategy<Value = (Vec<String>, String)> {
    (prop::collection::vec("[abc]{0,5}", 0..12), "[abcd]{0,40}")
}

proptest! {
    #[test]
    fn mark_found_finds_exactly_the_words_the_text_contains((words, text) in words_and_text()) {
        let dictionary = Dictionary::new(&words);
        let mut found = dictionary.no_state_found();
        dictionary.mark_found(text.as_bytes(), &mut found);
        for (i, word) in words.iter().enumerate() {
            prop_assert_eq!(found.contains(&dictionary, i), text.contains(word.as_str()), "{:?}", word);
        }
        let all = words.iter().all(|w| text.contains(w.as_str()));
        prop_assert_eq!(found.all(&dictionary), all);
    }

    #[test]
    fn each_end_reports_the_longest_word_ending_there((words, text) in words_and_text()) {
        let dictionary = Dictionary::new(&words);
        let reported: Vec<(String, usize)> = dictionary
            .longest_at_each_end(text.as_bytes())
            .map(|(word, end)| (words[word].clone(), end))
            .collect();
        let expected: Vec<(String, usize)> = (1..=text.len())
            .filter_map(|end| {
                words
                    .iter()
                    .filter(|w| !w.is_empty() && text[..end].ends_with(w.as_str()))
                    .max_by_key(|w| w.len())
                    .map(|w| (w.clone(), end))
            })
            .collect();
        prop_assert_eq!(reported, expected);
    }
}
