import "./components/hive-app.ts";
