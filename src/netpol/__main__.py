from netpol.cli.entry import run

run()
