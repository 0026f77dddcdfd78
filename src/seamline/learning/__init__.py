"""Each worker's normal efficiency per operation (常态效率), with learning curves.

Piece events become cycle times (``cycles``), cycle times become a robust level with a standard
error (``robust``), new operations get a learning curve averaged over several curve families
(``curves``), sparse cells borrow strength from the worker's skill group and the operation's
factory-wide figure (``priors``), and ``state`` keeps it all up to date one event at a time.
``projection`` plugs the state into ingest; docs/learning.md explains the choices.
"""
