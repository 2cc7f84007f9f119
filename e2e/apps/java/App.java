// A small Jetty service traced by the real dd-java-agent (run with -javaagent), as its users
// write one: GET /work calls DOWNSTREAM (if set) with java.net.http.HttpClient and answers 500
// with ?fail; with ?raise=CUSTOMER the handler throws from charge (or refund with &in=refund), which
// Jetty answers with 500 and the tracer records with its stack. Prints {"port": N} once it listens.
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.AbstractHandler;

public class App {
  // charge and refund fail alike from two places: two stacks, so two error groups.
  static void charge(String customer) {
    throw new IllegalStateException("card declined for customer " + customer);
  }

  static void refund(String customer) {
    throw new IllegalStateException("card declined for customer " + customer);
  }

  public static void main(String[] args) throws Exception {
    String downstream = System.getenv("DOWNSTREAM");
    HttpClient client = HttpClient.newHttpClient();
    Server server = new Server(new InetSocketAddress("127.0.0.1", 0));
    server.setHandler(new AbstractHandler() {
      @Override
      public void handle(String target, Request base, HttpServletRequest req, HttpServletResponse res) throws IOException {
        base.setHandled(true);
        boolean fail = req.getParameter("fail") != null;
        String customer = req.getParameter("raise");
        if (customer != null) {
          if ("refund".equals(req.getParameter("in"))) refund(customer);
          else charge(customer);
        }
        if (downstream != null) {
          try {
            client.send(HttpRequest.newBuilder(URI.create(downstream + (fail ? "?fail=1" : ""))).build(), HttpResponse.BodyHandlers.discarding());
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
          }
        }
        res.setStatus(fail ? 500 : 200);
        res.getWriter().print(fail ? "failed on purpose" : "ok");
      }
    });
    server.setStopAtShutdown(true);
    server.start();
    System.out.println("{\"port\": " + ((ServerConnector) server.getConnectors()[0]).getLocalPort() + "}");
    System.out.flush();
    server.join();
  }
}
