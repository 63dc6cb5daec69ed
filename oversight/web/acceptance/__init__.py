"""履约验收: a contract's year accepted by its team, and the 验收书."""
