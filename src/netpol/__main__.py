from netpol.cli.main import main

main()
