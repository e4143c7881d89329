//! Applies machine-applicable fixes to the files (the `fix` input): edits of each file applied from the
//! end backwards, skipping any that overlap one already applied.

use std::collections::BTreeMap;
use std::path::Path;

use crate::collect::Collected;
use crate::error::Error;
use crate::lint::FileEdit;

/// Applies the fixes of the collected findings; returns how many files changed.
pub fn apply(workspace: &Path, collected: &Collected) -> Result<usize, Error> {
    let mut by_file: BTreeMap<String, Vec<FileEdit>> = BTreeMap::new();
    collected.each(None, |spilled| {
        if let (Some(fix), Some(path)) = (spilled.fix, spilled.finding.path) {
            by_file.entry(path).or_default().extend(fix.edits);
        }
        Ok(true)
    })?;
    let mut changed = 0;
    for (path, mut edits) in by_file {
        let file = workspace.join(&path);
        let mut text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
        edits.sort_by(|a, b| b.start.cmp(&a.start).then(b.end.cmp(&a.end)));
        let mut floor = usize::MAX;
        let mut any = false;
        for edit in edits {
            if edit.end > floor
                || edit.end > text.len()
                || !text.is_char_boundary(edit.start)
                || !text.is_char_boundary(edit.end)
            {
                continue;
            }
            text.replace_range(edit.start..edit.end, &edit.text);
            floor = edit.start;
            any = true;
        }
        if any {
            std::fs::write(&file, text).map_err(|e| Error::io(&file, e))?;
            changed += 1;
        }
    }
    Ok(changed)
}
