//! The recipe parser's fuzz check, shared by the fuzz target
//! (`fuzz/fuzz_targets/recipe.rs` includes this file by path) and the test
//! that replays the fuzz corpus (`tests/it/fuzz_corpus.rs`). Only carbon-recipe
//! is used here.

use carbon_recipe::{Env, Recipe};

/// An environment where every variable is set, to a value that is itself a
/// reference (so expansion of values is exercised, and must not recurse
/// forever).
struct EveryVariable;

impl Env for EveryVariable {
    fn var(&self, name: &str) -> Option<String> {
        (name.len() % 2 == 0).then(|| format!("v-${{env:{name}}}"))
    }
}

/// For any bytes: no panic. Text that parses resolves each node (or gives an
/// error), and every error renders to a message naming the recipe.
pub fn check_fuzz_input(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let recipe = match Recipe::parse("fuzz.toml", text) {
        Ok(recipe) => recipe,
        Err(err) => {
            assert!(err.to_string().contains("fuzz.toml"), "{err}");
            return;
        }
    };
    for name in recipe.node_names() {
        if let Err(err) = recipe.resolve(name, None, &EveryVariable) {
            assert!(err.to_string().contains("fuzz.toml"), "{err}");
        }
    }
}
