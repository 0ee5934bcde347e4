"""Hand-written catalogue of departments, job-role families and skills.

Real-sounding names matter: every later judgement of the model (feature importance,
recommendations, drift reports) is read by people who know what a "Senior Data Engineer"
needs. The generator draws its sample from these lists; nothing here is random.
"""

from __future__ import annotations

from typing import NamedTuple


class Department(NamedTuple):
    """A department and the short code skills use to say they belong to it."""

    code: str
    name: str


class RoleFamily(NamedTuple):
    """A job family: its titles (individual contributor, manager) and its core skills."""

    department: str  # Department.code
    title: str
    manager_title: str
    core_skills: str  # "; "-separated names of the skills its roles almost always have

    def core_skill_names(self) -> tuple[str, ...]:
        """The family's core skills as a tuple of names."""
        return tuple(name.strip() for name in self.core_skills.split(";"))


class Skill(NamedTuple):
    """A skill, its category, its market trajectory and the departments it is typical of."""

    name: str
    category: str
    trajectory: str  # EMERGING, STABLE or LEGACY
    domains: tuple[str, ...]  # Department codes; empty = useful anywhere


EMERGING, STABLE, LEGACY = "EMERGING", "STABLE", "LEGACY"
TRAJECTORIES = (EMERGING, STABLE, LEGACY)

TECHNICAL, DATA_AI, CLOUD, SOFT, BUSINESS, MANAGERIAL = (
    "Technical",
    "Data & AI",
    "Cloud",
    "Soft Skills",
    "Business",
    "Managerial",
)
SKILL_CATEGORIES = (TECHNICAL, DATA_AI, CLOUD, SOFT, BUSINESS, MANAGERIAL)

DEPARTMENTS = (
    Department("SWE", "Software Engineering"),
    Department("DATA", "Data & Analytics"),
    Department("CLOUD", "Cloud & Infrastructure"),
    Department("SEC", "Cybersecurity"),
    Department("PROD", "Product & Design"),
    Department("SALES", "Sales & Marketing"),
    Department("FIN", "Finance"),
    Department("HR", "Human Resources"),
)

# Relative weight of each skill category (SKILL_CATEGORIES order) in a department's roles:
# why a Data Engineer's ~15 skills are mostly data and cloud, an Accountant's mostly business.
DEPARTMENT_CATEGORY_WEIGHTS: dict[str, tuple[float, ...]] = {
    "SWE": (5.0, 1.5, 2.0, 1.5, 0.5, 0.7),
    "DATA": (1.5, 6.0, 1.5, 1.5, 0.8, 0.7),
    "CLOUD": (2.5, 1.0, 6.0, 1.5, 0.4, 0.7),
    "SEC": (4.0, 1.0, 2.5, 1.5, 0.8, 0.7),
    "PROD": (1.0, 1.2, 0.5, 2.5, 4.0, 1.2),
    "SALES": (0.3, 1.2, 0.3, 3.0, 5.0, 1.2),
    "FIN": (0.3, 2.0, 0.3, 2.0, 5.0, 1.2),
    "HR": (0.3, 1.2, 0.2, 3.0, 5.0, 1.5),
}

ROLE_FAMILIES = (
    RoleFamily(
        "SWE",
        "Backend Engineer",
        "Backend Engineering Manager",
        "Java; Python; Go; Spring Boot; REST API Design; Microservices Architecture; SQL; "
        "Docker; Apache Kafka; Unit Testing; GraphQL; Node.js",
    ),
    RoleFamily(
        "SWE",
        "Frontend Engineer",
        "Frontend Engineering Manager",
        "JavaScript; TypeScript; React; Vue.js; AngularJS; jQuery; "
        "Accessibility Standards (WCAG); Figma; Unit Testing; GraphQL; WebAssembly",
    ),
    RoleFamily(
        "SWE",
        "Full Stack Developer",
        "Software Development Manager",
        "JavaScript; TypeScript; React; Node.js; Python; PHP; SQL; REST API Design; Docker; "
        "Git; CI/CD Pipelines",
    ),
    RoleFamily(
        "SWE",
        "Mobile Developer",
        "Mobile Development Manager",
        "Kotlin; Swift; Java; JavaScript; React; REST API Design; Unit Testing; Figma; "
        "Accessibility Standards (WCAG)",
    ),
    RoleFamily(
        "SWE",
        "QA Engineer",
        "Quality Assurance Manager",
        "Test Automation; Unit Testing; Python; Java; JavaScript; CI/CD Pipelines; "
        "Attention to Detail; Requirements Engineering; Agile Methodologies",
    ),
    RoleFamily(
        "SWE",
        "Embedded Software Engineer",
        "Embedded Engineering Manager",
        "C++; Rust; Linux Administration; Unit Testing; Edge Computing; Git; "
        "Applied Cryptography; Systems Thinking",
    ),
    RoleFamily(
        "SWE",
        "Integration Engineer",
        "Integration Engineering Manager",
        "Java; REST API Design; Apache Kafka; Microservices Architecture; GraphQL; SQL; "
        "Spring Boot; COBOL; Visual Basic; Perl",
    ),
    RoleFamily(
        "DATA",
        "Data Engineer",
        "Data Engineering Manager",
        "SQL; Python; Apache Spark; Apache Kafka; Apache Airflow; dbt; Data Modeling; "
        "Data Warehousing; ETL Development; Hadoop; Amazon Web Services; "
        "Data Quality Management",
    ),
    RoleFamily(
        "DATA",
        "Data Scientist",
        "Data Science Manager",
        "Python; Statistics; Machine Learning; Deep Learning; Pandas; Scikit-learn; PyTorch; "
        "Feature Engineering; Causal Inference; A/B Testing; Natural Language Processing; "
        "R Programming; Storytelling",
    ),
    RoleFamily(
        "DATA",
        "Data Analyst",
        "Analytics Manager",
        "SQL; Data Visualization; Tableau; Power BI; Statistics; Pandas; A/B Testing; "
        "Storytelling; Analytical Thinking; SAS",
    ),
    RoleFamily(
        "DATA",
        "Machine Learning Engineer",
        "Machine Learning Manager",
        "Python; Machine Learning; Deep Learning; PyTorch; TensorFlow; MLOps; "
        "Large Language Models; Retrieval-Augmented Generation; Vector Databases; Docker; "
        "Kubernetes; Computer Vision",
    ),
    RoleFamily(
        "DATA",
        "BI Developer",
        "Business Intelligence Manager",
        "SQL; Power BI; Tableau; Data Warehousing; Data Modeling; ETL Development; "
        "Data Visualization; Data Quality Management; SAS",
    ),
    RoleFamily(
        "DATA",
        "Analytics Engineer",
        "Analytics Engineering Manager",
        "SQL; dbt; Data Modeling; Data Warehousing; Apache Airflow; Git; "
        "Data Quality Management; Python; Data Governance",
    ),
    RoleFamily(
        "DATA",
        "MLOps Engineer",
        "MLOps Manager",
        "MLOps; Kubernetes; Docker; CI/CD Pipelines; Python; Observability; Terraform; "
        "Machine Learning; Amazon Web Services; Feature Engineering",
    ),
    RoleFamily(
        "CLOUD",
        "Cloud Engineer",
        "Cloud Engineering Manager",
        "Amazon Web Services; Microsoft Azure; Google Cloud Platform; Terraform; "
        "Infrastructure as Code; Cloud Migration; Cloud Networking; Serverless Architecture; "
        "Multi-Cloud Architecture; Docker",
    ),
    RoleFamily(
        "CLOUD",
        "DevOps Engineer",
        "DevOps Manager",
        "CI/CD Pipelines; Docker; Kubernetes; Ansible; Terraform; Git; GitOps; "
        "Linux Administration; Python; Helm; Observability",
    ),
    RoleFamily(
        "CLOUD",
        "Site Reliability Engineer",
        "SRE Manager",
        "Site Reliability Engineering; Observability; Prometheus; Kubernetes; "
        "Linux Administration; Go; Python; Incident Response; Backup & Disaster Recovery; "
        "Service Mesh",
    ),
    RoleFamily(
        "CLOUD",
        "Network Engineer",
        "Network Operations Manager",
        "Cloud Networking; Network Virtualization; Network Security; Linux Administration; "
        "Perl; Zero Trust Architecture; Edge Computing",
    ),
    RoleFamily(
        "CLOUD",
        "Systems Administrator",
        "Infrastructure Manager",
        "Linux Administration; Windows Server Administration; VMware Administration; "
        "On-Premise Server Management; SAN Storage Administration; "
        "Backup & Disaster Recovery; Ansible; Perl",
    ),
    RoleFamily(
        "CLOUD",
        "Platform Engineer",
        "Platform Engineering Manager",
        "Platform Engineering; Kubernetes; Terraform; Helm; GitOps; Service Mesh; "
        "Observability; Infrastructure as Code; Go; OpenShift",
    ),
    RoleFamily(
        "CLOUD",
        "Database Administrator",
        "Database Operations Manager",
        "SQL; Data Modeling; Backup & Disaster Recovery; Linux Administration; "
        "Cloud Migration; SAN Storage Administration; Data Quality Management",
    ),
    RoleFamily(
        "SEC",
        "Security Analyst",
        "Security Operations Manager",
        "SIEM Operations; Incident Response; Network Security; Threat Modeling; "
        "Linux Administration; Python; Attention to Detail; Regulatory Compliance",
    ),
    RoleFamily(
        "SEC",
        "Security Engineer",
        "Security Engineering Manager",
        "Network Security; Applied Cryptography; Threat Modeling; Zero Trust Architecture; "
        "Cloud Security; Identity & Access Management; Python; Rust; Linux Administration",
    ),
    RoleFamily(
        "SEC",
        "Penetration Tester",
        "Offensive Security Manager",
        "Penetration Testing; Python; Linux Administration; Network Security; "
        "Threat Modeling; Applied Cryptography; Perl; JavaScript",
    ),
    RoleFamily(
        "SEC",
        "Identity & Access Engineer",
        "Identity & Access Manager",
        "Identity & Access Management; Zero Trust Architecture; Microsoft Azure; "
        "Cloud Security; Regulatory Compliance; Applied Cryptography",
    ),
    RoleFamily(
        "SEC",
        "GRC Analyst",
        "Governance & Risk Manager",
        "Regulatory Compliance; Risk Management; Data Governance; Business Process Modeling; "
        "Attention to Detail; Written Communication; Responsible AI",
    ),
    RoleFamily(
        "SEC",
        "Cloud Security Engineer",
        "Cloud Security Manager",
        "Cloud Security; Amazon Web Services; Microsoft Azure; Kubernetes; "
        "Zero Trust Architecture; Identity & Access Management; Terraform; "
        "Infrastructure as Code",
    ),
    RoleFamily(
        "SEC",
        "Incident Responder",
        "Incident Response Manager",
        "Incident Response; SIEM Operations; Threat Modeling; Network Security; "
        "Crisis Management; Linux Administration; Backup & Disaster Recovery; Resilience",
    ),
    RoleFamily(
        "PROD",
        "Product Manager",
        "Group Product Manager",
        "Product Discovery; Product Roadmapping; Stakeholder Management; Market Research; "
        "User Research; A/B Testing; Customer Journey Mapping; Pricing Strategy; "
        "OKR Management; Storytelling; Generative AI",
    ),
    RoleFamily(
        "PROD",
        "Product Owner",
        "Agile Delivery Manager",
        "Agile Methodologies; Requirements Engineering; Product Roadmapping; "
        "Stakeholder Management; Customer Journey Mapping; Business Process Modeling; "
        "Communication",
    ),
    RoleFamily(
        "PROD",
        "UX Designer",
        "UX Design Manager",
        "UX Design; Figma; User Research; Customer Journey Mapping; "
        "Accessibility Standards (WCAG); Creativity; Customer Empathy; "
        "Workshop Facilitation",
    ),
    RoleFamily(
        "PROD",
        "UI Designer",
        "Visual Design Manager",
        "Figma; UX Design; Accessibility Standards (WCAG); JavaScript; Creativity; "
        "Attention to Detail; Generative AI",
    ),
    RoleFamily(
        "PROD",
        "UX Researcher",
        "UX Research Manager",
        "User Research; Customer Empathy; Statistics; A/B Testing; Workshop Facilitation; "
        "Active Listening; Storytelling; Customer Journey Mapping",
    ),
    RoleFamily(
        "PROD",
        "Scrum Master",
        "Agile Practice Manager",
        "Agile Methodologies; Workshop Facilitation; Conflict Resolution; "
        "Coaching & Mentoring; Stakeholder Management; Communication; Remote Collaboration",
    ),
    RoleFamily(
        "PROD",
        "Technical Writer",
        "Documentation Manager",
        "Written Communication; Attention to Detail; Git; REST API Design; "
        "Prompt Engineering; Generative AI; Accessibility Standards (WCAG)",
    ),
    RoleFamily(
        "SALES",
        "Account Executive",
        "Sales Manager",
        "Consultative Selling; Negotiation; Account Management; Salesforce CRM; "
        "Presentation Skills; Cold Calling; Pricing Strategy; Influencing; Active Listening",
    ),
    RoleFamily(
        "SALES",
        "Sales Development Representative",
        "Sales Development Manager",
        "Cold Calling; Salesforce CRM; Consultative Selling; Communication; Resilience; "
        "Active Listening; Marketing Automation",
    ),
    RoleFamily(
        "SALES",
        "Digital Marketing Specialist",
        "Digital Marketing Manager",
        "Digital Marketing; Search Engine Optimization; Social Media Marketing; "
        "Marketing Automation; A/B Testing; Generative AI; Prompt Engineering; "
        "Data Visualization",
    ),
    RoleFamily(
        "SALES",
        "Content Marketing Specialist",
        "Content Marketing Manager",
        "Storytelling; Written Communication; Search Engine Optimization; "
        "Social Media Marketing; Generative AI; Prompt Engineering; Creativity; "
        "Print Advertising",
    ),
    RoleFamily(
        "SALES",
        "Marketing Analyst",
        "Marketing Analytics Manager",
        "SQL; Data Visualization; Tableau; A/B Testing; Statistics; Market Research; "
        "Marketing Automation; Analytical Thinking",
    ),
    RoleFamily(
        "SALES",
        "Customer Success Specialist",
        "Customer Success Manager",
        "Account Management; Customer Empathy; Salesforce CRM; Active Listening; "
        "Conflict Resolution; Customer Journey Mapping; Communication",
    ),
    RoleFamily(
        "SALES",
        "Pre-Sales Consultant",
        "Pre-Sales Manager",
        "Presentation Skills; Consultative Selling; Requirements Engineering; "
        "Amazon Web Services; Storytelling; Influencing; Business Case Development",
    ),
    RoleFamily(
        "FIN",
        "Financial Analyst",
        "Finance Manager",
        "Financial Modeling; Forecasting & Planning; Budgeting; SQL; Power BI; "
        "Analytical Thinking; Time Series Forecasting; Business Case Development",
    ),
    RoleFamily(
        "FIN",
        "Accountant",
        "Accounting Manager",
        "IFRS Accounting; Manual Bookkeeping; Tax Compliance; Attention to Detail; "
        "Payroll Processing; Regulatory Compliance; ESG Reporting",
    ),
    RoleFamily(
        "FIN",
        "Financial Controller",
        "Controlling Manager",
        "Budgeting; IFRS Accounting; Forecasting & Planning; Regulatory Compliance; "
        "Power BI; Business Process Modeling; Budget Ownership; ESG Reporting",
    ),
    RoleFamily(
        "FIN",
        "Internal Auditor",
        "Internal Audit Manager",
        "Regulatory Compliance; Risk Management; Attention to Detail; Data Governance; "
        "Business Process Modeling; IFRS Accounting; Data Quality Management",
    ),
    RoleFamily(
        "FIN",
        "Treasury Analyst",
        "Treasury Manager",
        "Financial Modeling; Risk Management; Forecasting & Planning; "
        "Time Series Forecasting; SQL; Analytical Thinking",
    ),
    RoleFamily(
        "FIN",
        "Risk Analyst",
        "Risk Manager",
        "Risk Management; Statistics; SAS; Financial Modeling; Regulatory Compliance; "
        "Machine Learning; Python",
    ),
    RoleFamily(
        "FIN",
        "FP&A Analyst",
        "FP&A Manager",
        "Forecasting & Planning; Budgeting; Financial Modeling; Power BI; "
        "Business Case Development; Time Series Forecasting; SQL; Storytelling",
    ),
    RoleFamily(
        "HR",
        "HR Business Partner",
        "HR Manager",
        "Employment Law; Change Management; Performance Management; Organizational Design; "
        "Emotional Intelligence; Conflict Resolution; Stakeholder Management; "
        "Coaching & Mentoring",
    ),
    RoleFamily(
        "HR",
        "Talent Acquisition Specialist",
        "Talent Acquisition Manager",
        "Talent Sourcing; Hiring & Interviewing; Employer Branding; Active Listening; "
        "Negotiation; Skills-Based Talent Management; Prompt Engineering",
    ),
    RoleFamily(
        "HR",
        "Learning & Development Specialist",
        "Learning & Development Manager",
        "Learning Experience Design; Workshop Facilitation; Coaching & Mentoring; "
        "Skills-Based Talent Management; Generative AI; Presentation Skills",
    ),
    RoleFamily(
        "HR",
        "Compensation & Benefits Analyst",
        "Total Rewards Manager",
        "Compensation Benchmarking; Payroll Processing; Financial Modeling; Employment Law; "
        "Power BI; Analytical Thinking",
    ),
    RoleFamily(
        "HR",
        "People Analytics Analyst",
        "People Analytics Manager",
        "People Analytics; SQL; Statistics; Power BI; Data Visualization; Python; "
        "Strategic Workforce Planning; Responsible AI; Ethical Judgment",
    ),
    RoleFamily(
        "HR",
        "Payroll Specialist",
        "Payroll Manager",
        "Payroll Processing; Employment Law; Tax Compliance; Attention to Detail; "
        "HRIS Administration; Manual Bookkeeping",
    ),
    RoleFamily(
        "HR",
        "HRIS Analyst",
        "HRIS Manager",
        "HRIS Administration; SQL; Data Quality Management; Power BI; "
        "Business Process Modeling; People Analytics; Requirements Engineering",
    ),
)

# Large organisations have the same job at several sites: used only when more roles are
# asked for than the families x seniorities above can name, e.g. for benchmark volumes.
SITES = (
    "Paris",
    "Berlin",
    "London",
    "Madrid",
    "Milan",
    "Amsterdam",
    "Dublin",
    "Lisbon",
    "Warsaw",
    "Prague",
    "Vienna",
    "Zurich",
    "Stockholm",
    "Copenhagen",
    "Brussels",
    "Barcelona",
    "Munich",
    "Lyon",
    "Toronto",
    "New York",
    "Austin",
    "Singapore",
    "Sydney",
    "Bangalore",
)

_E, _S, _L = EMERGING, STABLE, LEGACY


def _skills(category: str, rows: tuple[tuple[str, str, str], ...]) -> tuple[Skill, ...]:
    """Skills of one category from (name, trajectory, space-separated domains) rows."""
    return tuple(Skill(name, category, trend, tuple(dom.split())) for name, trend, dom in rows)


SKILLS: tuple[Skill, ...] = (
    *_skills(
        TECHNICAL,
        (
            ("Python", _S, "SWE DATA"),
            ("Java", _S, "SWE"),
            ("JavaScript", _S, "SWE PROD"),
            ("TypeScript", _E, "SWE"),
            ("Go", _E, "SWE CLOUD"),
            ("Rust", _E, "SWE SEC"),
            ("C++", _S, "SWE"),
            ("C#", _S, "SWE"),
            ("Kotlin", _E, "SWE"),
            ("Swift", _S, "SWE"),
            ("PHP", _L, "SWE"),
            ("COBOL", _L, "SWE FIN"),
            ("Perl", _L, "SWE CLOUD"),
            ("Visual Basic", _L, "SWE FIN"),
            ("jQuery", _L, "SWE"),
            ("React", _S, "SWE PROD"),
            ("AngularJS", _L, "SWE"),
            ("Vue.js", _S, "SWE"),
            ("Node.js", _S, "SWE"),
            ("Spring Boot", _S, "SWE"),
            ("GraphQL", _E, "SWE"),
            ("REST API Design", _S, "SWE"),
            ("Microservices Architecture", _S, "SWE CLOUD"),
            ("Unit Testing", _S, "SWE"),
            ("Test Automation", _S, "SWE"),
            ("Git", _S, "SWE DATA CLOUD"),
            ("WebAssembly", _E, "SWE"),
            ("Linux Administration", _S, "CLOUD SEC"),
            ("Network Security", _S, "SEC CLOUD"),
            ("Penetration Testing", _S, "SEC"),
            ("Threat Modeling", _E, "SEC"),
            ("Zero Trust Architecture", _E, "SEC CLOUD"),
            ("Identity & Access Management", _S, "SEC"),
            ("SIEM Operations", _S, "SEC"),
            ("Incident Response", _S, "SEC"),
            ("Applied Cryptography", _S, "SEC"),
            ("Figma", _E, "PROD"),
            ("Accessibility Standards (WCAG)", _E, "PROD SWE"),
        ),
    ),
    *_skills(
        DATA_AI,
        (
            ("SQL", _S, "DATA FIN"),
            ("Data Modeling", _S, "DATA"),
            ("ETL Development", _L, "DATA"),
            ("Apache Spark", _S, "DATA"),
            ("Hadoop", _L, "DATA"),
            ("Apache Kafka", _S, "DATA SWE"),
            ("dbt", _E, "DATA"),
            ("Apache Airflow", _S, "DATA"),
            ("Data Warehousing", _S, "DATA"),
            ("Data Governance", _E, "DATA FIN SEC"),
            ("Data Visualization", _S, "DATA SALES FIN HR"),
            ("Tableau", _S, "DATA SALES"),
            ("Power BI", _S, "DATA FIN HR"),
            ("Statistics", _S, "DATA"),
            ("Machine Learning", _S, "DATA"),
            ("Deep Learning", _E, "DATA"),
            ("Natural Language Processing", _E, "DATA"),
            ("Computer Vision", _S, "DATA"),
            ("Large Language Models", _E, "DATA SWE"),
            ("Prompt Engineering", _E, ""),
            ("Retrieval-Augmented Generation", _E, "DATA SWE"),
            ("MLOps", _E, "DATA CLOUD"),
            ("Feature Engineering", _S, "DATA"),
            ("Time Series Forecasting", _S, "DATA FIN"),
            ("A/B Testing", _S, "DATA PROD SALES"),
            ("Causal Inference", _E, "DATA"),
            ("Generative AI", _E, ""),
            ("Vector Databases", _E, "DATA SWE"),
            ("SAS", _L, "DATA FIN"),
            ("R Programming", _L, "DATA"),
            ("Pandas", _S, "DATA"),
            ("Scikit-learn", _S, "DATA"),
            ("PyTorch", _E, "DATA"),
            ("TensorFlow", _S, "DATA"),
            ("Responsible AI", _E, "DATA HR"),
            ("Data Quality Management", _S, "DATA FIN"),
            ("People Analytics", _E, "HR"),
            ("AI-Assisted Coding", _E, "SWE DATA"),
        ),
    ),
    *_skills(
        CLOUD,
        (
            ("Amazon Web Services", _S, "CLOUD SWE DATA"),
            ("Microsoft Azure", _S, "CLOUD"),
            ("Google Cloud Platform", _S, "CLOUD DATA"),
            ("Kubernetes", _E, "CLOUD SWE"),
            ("Docker", _S, "CLOUD SWE"),
            ("Terraform", _E, "CLOUD"),
            ("Ansible", _S, "CLOUD"),
            ("Serverless Architecture", _E, "CLOUD SWE"),
            ("CI/CD Pipelines", _S, "CLOUD SWE"),
            ("Infrastructure as Code", _E, "CLOUD"),
            ("FinOps", _E, "CLOUD FIN"),
            ("Cloud Security", _E, "SEC CLOUD"),
            ("Helm", _E, "CLOUD"),
            ("Service Mesh", _E, "CLOUD"),
            ("Observability", _E, "CLOUD SWE"),
            ("Prometheus", _S, "CLOUD"),
            ("VMware Administration", _L, "CLOUD"),
            ("On-Premise Server Management", _L, "CLOUD"),
            ("Windows Server Administration", _L, "CLOUD"),
            ("Cloud Migration", _S, "CLOUD"),
            ("Multi-Cloud Architecture", _E, "CLOUD"),
            ("Edge Computing", _E, "CLOUD SWE"),
            ("OpenShift", _S, "CLOUD"),
            ("Site Reliability Engineering", _E, "CLOUD"),
            ("Network Virtualization", _S, "CLOUD"),
            ("SAN Storage Administration", _L, "CLOUD"),
            ("Backup & Disaster Recovery", _S, "CLOUD SEC"),
            ("Platform Engineering", _E, "CLOUD"),
            ("GitOps", _E, "CLOUD"),
            ("Cloud Networking", _S, "CLOUD SEC"),
        ),
    ),
    *_skills(
        SOFT,
        (
            ("Communication", _S, ""),
            ("Collaboration", _S, ""),
            ("Critical Thinking", _S, ""),
            ("Problem Solving", _S, ""),
            ("Adaptability", _E, ""),
            ("Creativity", _S, "PROD SALES"),
            ("Emotional Intelligence", _S, "HR"),
            ("Time Management", _S, ""),
            ("Presentation Skills", _S, "SALES PROD"),
            ("Active Listening", _S, "HR SALES"),
            ("Negotiation", _S, "SALES FIN HR"),
            ("Conflict Resolution", _S, "HR"),
            ("Storytelling", _E, "SALES PROD DATA"),
            ("Intercultural Communication", _S, "HR SALES"),
            ("Resilience", _S, ""),
            ("Growth Mindset", _E, ""),
            ("Written Communication", _S, ""),
            ("Attention to Detail", _S, "FIN"),
            ("Customer Empathy", _S, "SALES PROD"),
            ("Analytical Thinking", _S, "DATA FIN"),
            ("Learning Agility", _E, ""),
            ("Systems Thinking", _E, "SWE CLOUD"),
            ("Remote Collaboration", _E, ""),
            ("Ethical Judgment", _E, "DATA HR"),
            ("Public Speaking", _S, "SALES"),
            ("Workshop Facilitation", _S, "PROD HR"),
            ("Influencing", _S, "SALES PROD"),
            ("Curiosity", _S, ""),
        ),
    ),
    *_skills(
        BUSINESS,
        (
            ("Financial Modeling", _S, "FIN"),
            ("Budgeting", _S, "FIN"),
            ("Forecasting & Planning", _S, "FIN"),
            ("IFRS Accounting", _S, "FIN"),
            ("Tax Compliance", _S, "FIN"),
            ("Regulatory Compliance", _S, "FIN SEC"),
            ("ESG Reporting", _E, "FIN"),
            ("Risk Management", _S, "FIN SEC"),
            ("Procurement", _S, "FIN"),
            ("Contract Management", _S, "FIN SALES"),
            ("Manual Bookkeeping", _L, "FIN"),
            ("Market Research", _S, "SALES PROD"),
            ("Digital Marketing", _S, "SALES"),
            ("Search Engine Optimization", _L, "SALES"),
            ("Social Media Marketing", _S, "SALES"),
            ("Marketing Automation", _E, "SALES"),
            ("Salesforce CRM", _S, "SALES"),
            ("Account Management", _S, "SALES"),
            ("Consultative Selling", _S, "SALES"),
            ("Cold Calling", _L, "SALES"),
            ("Print Advertising", _L, "SALES"),
            ("Pricing Strategy", _S, "SALES FIN PROD"),
            ("Customer Journey Mapping", _E, "PROD SALES"),
            ("Product Discovery", _E, "PROD"),
            ("Product Roadmapping", _S, "PROD"),
            ("UX Design", _S, "PROD"),
            ("User Research", _S, "PROD"),
            ("Business Process Modeling", _S, "FIN PROD"),
            ("Requirements Engineering", _S, "PROD SWE"),
            ("Talent Sourcing", _S, "HR"),
            ("Employment Law", _S, "HR"),
            ("Compensation Benchmarking", _S, "HR FIN"),
            ("Strategic Workforce Planning", _E, "HR"),
            ("HRIS Administration", _S, "HR"),
            ("Payroll Processing", _L, "HR FIN"),
            ("Learning Experience Design", _E, "HR"),
            ("Employer Branding", _E, "HR SALES"),
            ("Skills-Based Talent Management", _E, "HR"),
        ),
    ),
    *_skills(
        MANAGERIAL,
        (
            ("People Management", _S, ""),
            ("Coaching & Mentoring", _S, ""),
            ("Performance Management", _S, "HR"),
            ("Strategic Planning", _S, ""),
            ("Change Management", _E, "HR"),
            ("Stakeholder Management", _S, ""),
            ("Project Management", _S, ""),
            ("Agile Methodologies", _S, "SWE PROD"),
            ("Budget Ownership", _S, "FIN"),
            ("Hiring & Interviewing", _S, "HR"),
            ("Team Building", _S, ""),
            ("Decision Making", _S, ""),
            ("Delegation", _S, ""),
            ("OKR Management", _E, "PROD"),
            ("Portfolio Management", _S, "PROD FIN"),
            ("Vendor Management", _S, "CLOUD FIN"),
            ("Cross-Functional Leadership", _E, ""),
            ("Remote Team Leadership", _E, ""),
            ("Organizational Design", _S, "HR"),
            ("Succession Planning", _S, "HR"),
            ("Crisis Management", _S, "SEC"),
            ("Program Management", _S, ""),
            ("Business Case Development", _S, "FIN PROD"),
            ("Diversity & Inclusion Leadership", _E, "HR"),
            ("Lean Management", _S, ""),
            ("Six Sigma", _L, "FIN"),
            ("Waterfall Project Management", _L, ""),
            ("PRINCE2", _L, ""),
            ("Digital Transformation Leadership", _E, ""),
            ("Innovation Management", _E, "PROD"),
        ),
    ),
)


def _check_catalogue() -> None:
    """Fail at import time on a typo that would break uniqueness or the category lists."""
    names = [skill.name for skill in SKILLS]
    if len(set(names)) != len(names):
        raise ValueError("duplicate skill names in the catalogue")
    codes = {dept.code for dept in DEPARTMENTS}
    for skill in SKILLS:
        if skill.category not in SKILL_CATEGORIES or not set(skill.domains) <= codes:
            raise ValueError(f"bad catalogue entry: {skill}")
    for family in ROLE_FAMILIES:
        missing = set(family.core_skill_names()) - set(names)
        if missing:
            raise ValueError(f"{family.title}: core skills not in the catalogue: {missing}")
    titles = [f.title for f in ROLE_FAMILIES] + [f.manager_title for f in ROLE_FAMILIES]
    if len(set(titles)) != len(titles):
        raise ValueError("duplicate role titles in the catalogue")


_check_catalogue()
