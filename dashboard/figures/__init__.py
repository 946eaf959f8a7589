"""Figure functions: each takes a DataFrame and returns a Plotly figure, tested without a browser."""
