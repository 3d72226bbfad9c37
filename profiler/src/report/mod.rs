//! Renderers: findings and verdicts → terminal table, Markdown, JSON.
