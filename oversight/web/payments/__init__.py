"""付款计划: a contract's installments, their holds and payments, and the finance export."""
