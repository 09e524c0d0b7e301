"""Bank payment registers (реестры платежей): column mappings and a reader of CSV/TXT files."""
