"""Single cells under drug: reading, programme scores, sub-populations (issue 23)."""
