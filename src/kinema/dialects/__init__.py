"""Wire dialects: each turns its body into a Draft and a task into its own reply shape.
A dialect is a thin translation at the edge; nothing below it knows which one was used."""
