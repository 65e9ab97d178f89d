"""Who is calling and what they may do: bearer tokens, access rules that follow the geography,
rate limits, and the headers every response carries."""
