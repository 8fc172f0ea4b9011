// node --import this file: records which modules a process loads (see module-recorder-hooks.mjs).
import { register } from "node:module";

register("./module-recorder-hooks.mjs", import.meta.url);
