"""Compression toward the budgets: channel pruning, fine-tuning, QAT and distillation (`invoke compress`)."""
