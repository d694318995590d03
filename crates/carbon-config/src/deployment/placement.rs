//! Where a table the file lacks goes: beside WSO2's commented-out sample
//! of it, as a person uncommenting the sample would put it.

/// `text` with the table `name` (with its subtables), which toml_edit
/// appended at the end, moved to just after the commented-out sample of it
/// (`#[name]` and the comment lines after it), where that sample stands
/// between tables; `None` where there is no such sample.
pub(super) fn beside_sample(text: &str, name: &str) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let header = |line: &str, open: &str| {
        let rest = line.trim_start().strip_prefix(open)?;
        let rest = rest.trim_start().strip_prefix('[').unwrap_or(rest);
        let rest = rest.trim_start().strip_prefix(name)?;
        rest.starts_with(']')
            .then_some(())
            .or(rest.starts_with('.').then_some(()))
    };
    let ours = |line: &str| header(line, "[").is_some();
    // Where the appended table starts: the first of its headers in the
    // run of lines at the end that holds no other table's header.
    let last = lines
        .iter()
        .rposition(|l| ours(l) && !l.trim_start().starts_with('#'))?;
    let region = (0..=last)
        .rev()
        .take_while(|&i| ours(lines[i]) || !lines[i].trim_start().starts_with('['))
        .last()?;
    let start = (region..=last).find(|&i| ours(lines[i]))?;
    if lines[start..]
        .iter()
        .any(|l| l.trim_start().starts_with('#') || (l.trim_start().starts_with('[') && !ours(l)))
    {
        return None;
    }
    // The sample of that very table (`#[clustering]` for `[clustering]`)
    // and the comment lines after it, followed by a table (or the appended
    // one), so that no key below it joins our table.
    let first = lines[start].trim();
    let sample = lines[..start].iter().position(|l| {
        l.trim_start()
            .strip_prefix('#')
            .is_some_and(|rest| rest.trim() == first)
    })?;
    let end = sample
        + lines[sample..start]
            .iter()
            .take_while(|l| l.trim_start().starts_with('#'))
            .count();
    let next = lines[end..start].iter().find(|l| !l.trim().is_empty());
    if next.is_some_and(|l| !l.trim_start().starts_with('[')) {
        return None;
    }
    let block: Vec<&str> = lines[start..].to_vec();
    let mut out = String::with_capacity(text.len());
    lines[..end].iter().for_each(|l| out.push_str(l));
    if !out.ends_with('\n') {
        out.push('\n');
    }
    block.iter().for_each(|l| out.push_str(l));
    if !out.ends_with('\n') {
        out.push('\n');
    }
    let rest: Vec<&str> = lines[end..start].to_vec();
    let rest = rest.join("");
    let rest = rest.trim_end_matches(['\n', '\r']);
    if !rest.trim().is_empty() {
        if !rest.starts_with(['\n', '\r']) {
            out.push('\n');
        }
        out.push_str(rest);
        out.push('\n');
    }
    Some(out)
}
