"""Smart control: coordinated plans designed from counts, and the measures (ATSPM) that judge
the policies (those live in controller/policies)."""
