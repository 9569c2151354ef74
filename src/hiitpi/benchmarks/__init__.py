"""The pieces of ``hiitpi bench``: offline passes, live runs in a child process, statistics."""
