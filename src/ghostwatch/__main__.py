from ghostwatch.cli.main import main

main()
