import { runProgram } from "./stacks/program";

// Stack outputs: every service URL, the broker management URL, connection strings (secret).
export = runProgram();
