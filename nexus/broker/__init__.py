"""Broker back office: customers and accounts (HD-wallet deposit addresses), Buy / Sell /
Merchant / Gift transactions as table-driven state machines (`states`), a double-entry
ledger in smallest units (`ledger`), quotes (`pricing`), a durable outbox of signed callbacks
(`callbacks`), Ethereum deposits and sends (`chain`, `deposits`, `sender`), timers on an
injectable clock (`timers`, `clock`), the REST API (`api`) and the audit (`audit`).
`nexus broker serve` runs it; `nexus broker audit` checks a database."""
