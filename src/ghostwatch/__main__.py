from ghostwatch.cli import main

main()
