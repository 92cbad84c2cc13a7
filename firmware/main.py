# main.py: the smartcross field node (see firmware/README.md).
from node import app

app.main()
