# Shared by bench/compare and bench/scale (sourced, not run).

# The tree every node copies, at $1: an assembled Message Broker 3.2.0 when
# the corpus is there, else the sample home in fixtures/ (whose paths the
# peer scripts of bench/compare do not expect). Made once; says which.
make_tree() {
  local tree=$1 corpus=${CARBON_CORPUS:-$root/../shared/corpus}
  # Absolute: `assemble` copies from inside the corpus, where a relative DEST
  # would land (and the corpus suite would then read it as corpus files).
  case $tree in /*) ;; *) tree=$PWD/$tree ;; esac
  [ -d "$tree" ] && return
  if [ -x "$corpus/assemble" ]; then
    "$corpus/assemble" mb-3.2.0 "$tree" >/dev/null
    echo "tree: mb-3.2.0 from $corpus"
  else
    cp -r "$root/fixtures/homes/carbon-4.4" "$tree"
    echo "tree: fixtures/homes/carbon-4.4 (no corpus; the peer scripts expect MB 3.2.0 paths)"
  fi
}

# The median of the times in hyperfine's JSON export $1 (its first command).
median() {
  python3 -c "import json,statistics,sys; print(statistics.median(json.load(open(sys.argv[1]))['results'][0]['times']))" "$1"
}

# The fastest of the times in hyperfine's JSON export $1 (its first command).
fastest() {
  python3 -c "import json,sys; print(min(json.load(open(sys.argv[1]))['results'][0]['times']))" "$1"
}
