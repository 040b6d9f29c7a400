"""The store's read side: reports, changes, reviews, archives built from rows."""
