"""Smart control: policies that coordinate and adapt, and the measures that judge them."""
