from remotecare.cli import main

main()
