/** Plugins the broker starts with: the management API (topology, UI) and Prometheus metrics. */
export const RABBITMQ_PLUGINS = ["rabbitmq_management", "rabbitmq_prometheus"] as const;

/** /etc/rabbitmq/enabled_plugins: an Erlang term, a list of atoms closed by a full stop. */
export function renderEnabledPlugins(plugins: readonly string[] = RABBITMQ_PLUGINS): string {
  for (const plugin of plugins) {
    if (!/^[a-z][a-z0-9_]*$/.test(plugin)) throw new Error(`invalid RabbitMQ plugin name '${plugin}'`);
  }
  return `[${plugins.join(",")}].\n`;
}
