from jarvis_planner.cli import main

main()
