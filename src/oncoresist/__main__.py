from oncoresist.cli import main

main()
